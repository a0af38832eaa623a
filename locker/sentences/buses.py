"""A bus's health as sentences that say what failed: which bus, which board address, and
how its reads ended (no answer at all, an answer cut short, a bad checksum), with the
counts since start; never a bare "fault".

It reads plain values, as the drivers report them (drivers/counters.py): per bus its
counters (``BusCounters.as_dict``), its state (``ok`` / ``no_answer``) and its boards'
failures (``BoardFailures.as_dict``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from common.sentences import Sentences, say

KINDS: Sentences = {  # drivers.counters.FailureKind, by its value and by its text
    "silence": ("no answer", "keine Antwort"),
    "torn_frame": ("answer cut short", "Antwort abgerissen"),
    "bad_checksum": ("bad checksum", "Prüfsumme falsch"),
}

COUNTERS: Sentences = {  # the error counters worth saying, in this order
    "attempts_silent": ("{n} × no answer", "{n} × keine Antwort"),
    "attempts_torn_frame": ("{n} × answer cut short", "{n} × Antwort abgerissen"),
    "attempts_bad_checksum": ("{n} × bad checksum", "{n} × Prüfsumme falsch"),
    "checksum_errors": ("{n} frames with a bad checksum", "{n} Rahmen mit falscher Prüfsumme"),
    "bad_frames": ("{n} broken frames", "{n} kaputte Rahmen"),
    "unexpected_answers": (
        "{n} answers from the wrong board",
        "{n} Antworten der falschen Steuerung",
    ),
    "refusals": ("{n} refusals by a board", "{n} Ablehnungen durch eine Steuerung"),
    "port_errors": ("{n} port errors (cable, adapter)", "{n} Port-Fehler (Kabel, Adapter)"),
}
STATES: Sentences = {
    "ok": ("answers", "antwortet"),
    "no_answer": ("does not answer", "antwortet nicht"),
}
TIMEOUTS = ("{n} reads timed out", "{n} Abfragen ohne Antwort in der Zeit")

LINES: Sentences = {
    "bus_silent": ("Bus {bus} does not answer", "Bus {bus} antwortet nicht"),
    "bus_errors": ("Bus {bus}", "Bus {bus}"),
    "board_failed": (
        "board {address}: {what} (last read)",
        "Steuerung {address}: {what} (letzte Abfrage)",
    ),
    "board_again": (
        "board {address} answers again (last failure: {what})",
        "Steuerung {address} antwortet wieder (letzter Fehler: {what})",
    ),
    "tries": ("{kind}, {count} of {total} tries", "{kind}, {count} von {total} Versuchen"),
    "since_start": ("since start: {counts}", "seit dem Start: {counts}"),
}

_TRIES = re.compile(r"(bad checksum|torn frame|silence) \((\d+) of (\d+) tr(?:y|ies)\)")

Board = Mapping[str, object]


def _kind(text: str, lang: str) -> str:
    return say(KINDS, text.replace(" ", "_"), lang)


def failure_words(detail: str, lang: str) -> str:
    """``bad checksum (3 of 3 tries)`` (drivers.counters.describe) in ``lang``."""
    found = _TRIES.findall(detail)
    if not found:
        return _kind(detail, lang) if detail else say(KINDS, "silence", lang)
    return "; ".join(
        say(LINES, "tries", lang, {"kind": _kind(k, lang), "count": c, "total": t})
        for k, c, t in found
    )


def counts_words(counters: Mapping[str, int], lang: str) -> str:
    """The error counters that are not zero, e.g. "12 × no answer, 1 port errors"."""
    said = [
        say(COUNTERS, name, lang, {"n": counters[name]})
        for name in COUNTERS
        if counters.get(name, 0)
    ]
    if not said and counters.get("timeouts", 0):
        said.append(TIMEOUTS[1 if lang == "de" else 0].format(n=counters["timeouts"]))
    return ", ".join(said)


def _board(board: Board, lang: str) -> str | None:
    if not board.get("last_failure"):
        return None
    what = failure_words(str(board.get("last_failure_detail") or ""), lang)
    key = "board_again" if board.get("answered_since") else "board_failed"
    return say(LINES, key, lang, {"address": board.get("address"), "what": what})


def bus_sentences(
    states: Mapping[str, str],
    counters: Mapping[str, Mapping[str, int]],
    boards: Mapping[str, Sequence[Board]],
    lang: str,
) -> list[str]:
    """One sentence per bus with something wrong (none: every bus is fine), e.g. "Bus
    main does not answer: board 1: no answer, 3 of 3 tries (last read); since start:
    12 × no answer"."""
    said = []
    for bus in sorted(set(states) | set(counters) | set(boards)):
        parts = [p for b in boards.get(bus, ()) if (p := _board(b, lang))]
        counts = counts_words(counters.get(bus, {}), lang)
        silent = states.get(bus, "ok") != "ok"
        if not (silent or parts or counts):
            continue
        if counts:
            parts.append(say(LINES, "since_start", lang, {"counts": counts}))
        head = say(LINES, "bus_silent" if silent else "bus_errors", lang, {"bus": bus})
        said.append(f"{head}: {'; '.join(parts)}" if parts else head)
    return said
