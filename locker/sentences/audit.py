"""An audit row as a sentence: its action's words (:mod:`locker.sentences.audit_words`)
with the facts read from its compartment, parcel and detail; what the detail says beyond
them (a typed reason, a name) follows after a colon, as written."""

from __future__ import annotations

import re
from collections.abc import Callable

from common.sentences import Sentences, say
from locker.sentences.audit_words import AUDIT, OUTCOMES, PURPOSES
from locker.sentences.events import ALERTS
from locker.sentences.problems import problem_sentence

ALERT_RAISED = ("Alert: {alert}", "Alarm: {alert}")

# every action, with the alerts' (``alert.<kind>``) made from their kinds
ACTIONS: Sentences = {
    **AUDIT,
    **{
        f"alert.{kind}": (ALERT_RAISED[0].format(alert=en), ALERT_RAISED[1].format(alert=de))
        for kind, (en, de) in ALERTS.items()
    },
}

# the reasons a refused try was counted for, short (``3 × too_many_attempts``)
WHY: Sentences = {
    "too_many_attempts": ("too many wrong tries", "zu viele falsche Versuche"),
    "door_busy": ("the door was in use", "die Tür war gerade belegt"),
    "code_invalid": ("wrong code", "falscher Code"),
}

_READING = re.compile(r"DoorReading\(latched=(True|False), occupied=(True|False|None)\)")
_READINGS: Sentences = {
    "True": ("door shut", "Tür zu"),
    "False": ("door open", "Tür offen"),
    "occupied=True": ("something inside", "etwas darin"),
    "occupied=False": ("empty", "leer"),
    "None": ("no reading", "keine Messung"),
}
_OPEN_ALL_DONE = re.compile(r"opened (\d+); did not open (\d+)")
_IMPORTED = re.compile(r"(\d+) added, (\d+) changed")

Facts = dict[str, object]


def _purpose(detail: str, lang: str, facts: Facts) -> str:
    """``staff: cleaning`` -> the purpose's word, and "cleaning" left to say."""
    for word in sorted(PURPOSES, key=len, reverse=True):  # take_back before a shorter one
        if detail == word or detail.startswith((f"{word}:", f"{word} ")):
            facts["purpose"] = say(PURPOSES, word, lang)
            return detail[len(word) :].removeprefix(":").strip()
    facts["purpose"] = "?"
    return detail


def _reading(detail: str, lang: str, facts: Facts) -> str:
    rest = _purpose(detail, lang, facts)
    found = _READING.fullmatch(rest)
    if rest == "None":
        return say(_READINGS, "None", lang)
    if found is None:
        return rest
    parts = [say(_READINGS, found[1], lang)]
    if found[2] != "None":
        parts.append(say(_READINGS, f"occupied={found[2]}", lang))
    return ", ".join(parts)


def _outcome(detail: str, lang: str, facts: Facts) -> str:
    """``<command id>: ok`` or ``<command id>: <code>``."""
    _, _, code = detail.rpartition(": ")
    facts["outcome"] = say(OUTCOMES, code, lang) if code == "ok" else problem_sentence(code, lang)
    return ""


def _counted(detail: str, lang: str, facts: Facts) -> str:
    """``3 × too_many_attempts``."""
    count, _, code = detail.partition(" × ")
    facts["count"] = count if count.isdigit() else 1
    facts["why"] = say(WHY, code, lang) if code in WHY else problem_sentence(code, lang)
    return ""


def _why(detail: str, lang: str, facts: Facts) -> str:
    facts["why"] = problem_sentence(detail, lang)
    return ""


def _open_all_done(detail: str, lang: str, facts: Facts) -> str:
    found = _OPEN_ALL_DONE.fullmatch(detail)
    if found is None:
        return detail
    words = ("{0} opened, {1} did not open", "{0} geöffnet, {1} nicht geöffnet")
    return words[1 if lang == "de" else 0].format(found[1], found[2])


def _imported(detail: str, lang: str, facts: Facts) -> str:
    found = _IMPORTED.fullmatch(detail)
    if found is None:
        return detail
    words = ("{0} added, {1} changed", "{0} hinzugefügt, {1} geändert")
    return words[1 if lang == "de" else 0].format(found[1], found[2])


Reader = Callable[[str, str, Facts], str]


def _reader(action: str) -> Reader | None:
    if action.startswith("door.reconciled_"):
        return _reading
    if action.startswith("door.") and action != "door.open_unconfirmed":
        return _purpose
    if action.startswith("hub."):
        return _outcome
    return {
        "collect.refused": _counted,
        "central.refused": _why,
        "open_all.done": _open_all_done,
        "recipient.imported": _imported,
    }.get(action)


def audit_sentence(
    action: str,
    lang: str,
    *,
    compartment_id: int | None = None,
    parcel_id: int | None = None,
    detail: str = "",
) -> str:
    """E.g. ``compartment.out_of_service`` of compartment 3 with the note "door sticks":
    "Compartment 3 taken out of service: door sticks"."""
    facts: Facts = {"n": compartment_id, "parcel": parcel_id}
    reader = _reader(action)
    rest = reader(detail, lang, facts) if reader is not None else detail
    text = say(ACTIONS, action, lang, {k: v for k, v in facts.items() if v is not None})
    return f"{text}: {rest}" if rest else text
