"""One command's conversation with the terminal, strict about the order of messages.

The station sends a command; the terminal must first acknowledge it (``80 00 00``) or
refuse it (``84 xx``). Then, until the transaction ends with a completion (``06 0F``) or
an abort (``06 1E``), the terminal may send intermediate status (``04 FF``), status
information (``04 0F``) and print lines (``06 D1``/``06 D3``); the station acknowledges
every one. Anything else, bytes that are no APDU, a closed link or silence end the
conversation as such, and :class:`Exchange` records how, for the client to judge.

When the customer's time runs out before a result, the station aborts (``06 B0``) and
waits for the terminal's ``06 1E``; after an approved result it waits only for the
completion, and never aborts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from drivers.zvt import bitmaps, codes
from drivers.zvt.apdu import ACK, Apdu
from drivers.zvt.bcd import BcdError
from drivers.zvt.link import Link, LinkClosed, LinkGarbled, LinkSilent

_LOGGER = logging.getLogger(__name__)

INTERMEDIATE = (0x04, 0xFF)
STATUS = (0x04, 0x0F)
PRINT_LINE = (0x06, 0xD1)
PRINT_BLOCK = (0x06, 0xD3)
COMPLETION = (0x06, 0x0F)
ABORT = (0x06, 0x1E)
STATION_ABORT = Apdu(0x06, 0xB0)
ACK_CLASS, NACK_CLASS = 0x80, 0x84
DISPLAY_TEXTS, TEXT_LINE = 0x24, 0x07
CANCEL_POLL_S = 0.1  # how soon a cancel at the kiosk becomes the station's abort


@dataclass(frozen=True)
class Timeouts:
    """How long the station waits, in seconds."""

    connect_s: float = 5.0  # for the TCP connection
    ack_s: float = 5.0  # for the first answer to a command (80 00 00 or 84 xx)
    transaction_s: float = 120.0  # for a result: the customer's time; then it aborts
    completion_s: float = 15.0  # after an approved result, for the completion
    abort_s: float = 5.0  # after the station's abort, for the terminal's 06 1E


class Ending(Enum):
    """How the conversation ended."""

    COMPLETED = "completed"  # 06 0F
    ABORTED = "aborted"  # 06 1E
    REFUSED = "refused"  # 84 xx instead of the acknowledgement: nothing started
    NO_ANSWER = "no answer"  # silence (or a closed link) before the acknowledgement
    CLOSED = "closed"  # the link ended after the terminal began
    GARBLED = "garbled"  # bytes that are no APDU
    SILENT = "silent"  # no completion (or no answer to the abort) in time
    OUT_OF_SEQUENCE = "out of sequence"  # a message no terminal sends at that point


@dataclass
class Exchange:
    """What came back for one command."""

    ending: Ending = Ending.NO_ANSWER
    started: bool = False  # the terminal acknowledged the command
    fields: bitmaps.Fields = field(default_factory=bitmaps.Fields)  # all status infos merged
    result_code: int | None = None  # the last bitmap 27
    unreadable: int = 0  # status infos whose bitmaps were malformed
    code: int | None = None  # the code of an 84 xx or a 06 1E
    texts: list[str] = field(default_factory=list)
    print_blocks: int = 0
    station_aborted: bool = False
    cancelled: bool = False  # the abort was the customer's, at the kiosk
    note: str = ""

    @property
    def approved_result(self) -> bool:
        return self.result_code == codes.APPROVED


def run(
    link: Link,
    command: Apdu,
    timeouts: Timeouts,
    on_text: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> Exchange:
    """Send ``command`` and follow the terminal to the end of the transaction; ``cancel``
    set before a result makes the station abort (the customer pressed "cancel")."""
    ex = Exchange()
    link.send(command)
    try:
        first = link.receive(time.monotonic() + timeouts.ack_s)
    except (LinkSilent, LinkClosed) as exc:
        return _ended(ex, Ending.NO_ANSWER, str(exc))
    except LinkGarbled as exc:
        return _ended(ex, Ending.GARBLED, str(exc))
    if first.cls == NACK_CLASS and not first.data:
        ex.code = first.instr
        return _ended(ex, Ending.REFUSED, codes.result_text(first.instr))
    if first != ACK:
        # Strict: no acknowledgement, no transaction. But a terminal that went on without
        # one may have begun taking money, so unless it says it stopped, count it begun.
        ex.started = first.command != ABORT and first.cls != ACK_CLASS
        return _ended(ex, Ending.OUT_OF_SEQUENCE, f"answer {first} to {command}")
    ex.started = True
    return _follow(link, ex, timeouts, on_text, cancel)


def _follow(
    link: Link,
    ex: Exchange,
    timeouts: Timeouts,
    on_text: Callable[[str], None] | None,
    cancel: threading.Event | None,
) -> Exchange:
    deadline = time.monotonic() + timeouts.transaction_s
    while True:
        cancelled = cancel is not None and cancel.is_set()
        if cancelled and not (ex.approved_result or ex.station_aborted):
            link.send(STATION_ABORT)
            ex.station_aborted = ex.cancelled = True
            deadline = time.monotonic() + timeouts.abort_s
        look_until = deadline if cancel is None else min(deadline, time.monotonic() + CANCEL_POLL_S)
        try:
            msg = link.receive(look_until)
        except LinkSilent as exc:
            if time.monotonic() < deadline:
                continue  # only a look at the cancel flag
            if ex.approved_result or ex.station_aborted:
                return _ended(ex, Ending.SILENT, str(exc))
            link.send(STATION_ABORT)  # the customer's time is up
            ex.station_aborted = True
            deadline = time.monotonic() + timeouts.abort_s
            continue
        except LinkClosed as exc:
            return _ended(ex, Ending.CLOSED, str(exc))
        except LinkGarbled as exc:
            return _ended(ex, Ending.GARBLED, str(exc))
        kind = msg.command
        if kind == COMPLETION:
            link.send(ACK)
            return _ended(ex, Ending.COMPLETED, "")
        if kind == ABORT:
            link.send(ACK)
            ex.code = msg.data[0] if msg.data else None
            why = "aborted" if ex.code is None else codes.result_text(ex.code)
            return _ended(ex, Ending.ABORTED, why)
        if kind == INTERMEDIATE:
            link.send(ACK)
            _show(ex, intermediate_text(msg.data), on_text)
        elif kind == STATUS:
            link.send(ACK)
            if _status(ex, msg.data):
                deadline = time.monotonic() + timeouts.completion_s
        elif kind in (PRINT_LINE, PRINT_BLOCK):
            link.send(ACK)  # kept nowhere: receipt lines may carry a masked card number
            ex.print_blocks += 1
        elif ex.station_aborted and msg.cls in (ACK_CLASS, NACK_CLASS) and not msg.data:
            if msg.cls == NACK_CLASS:  # past the point of no return: wait for the end
                deadline = time.monotonic() + timeouts.transaction_s
        else:
            return _ended(ex, Ending.OUT_OF_SEQUENCE, f"unexpected {msg}")


def _status(ex: Exchange, data: bytes) -> bool:
    """Take one status information in; True when it carries an approved result."""
    try:
        found = bitmaps.parse(data)
        result = found.byte(bitmaps.RESULT)
        for tag in (bitmaps.AMOUNT, bitmaps.TRACE, bitmaps.RECEIPT):
            found.digits(tag)  # malformed BCD shows here, not later
    except (bitmaps.BitmapError, BcdError) as exc:
        _LOGGER.warning("zvt: unreadable status information: %s", exc)
        ex.unreadable += 1
        return False
    if found.unknown is not None:
        _LOGGER.info("zvt: status information read up to the unknown bitmap %02x", found.unknown)
    ex.fields.values.update(found.values)
    ex.fields.skipped += found.skipped
    if result is not None:
        ex.result_code = result
    return result == codes.APPROVED


def intermediate_text(data: bytes) -> str:
    """The words of an intermediate status: the terminal's own display lines when it
    sends them (a TLV container after the status and timeout bytes), else the words of
    its status code."""
    if not data:
        return ""
    try:
        lines = _display_lines(data[2:])
    except bitmaps.BitmapError:
        lines = []
    return " ".join(lines) if lines else codes.intermediate_text(data[0])


def _display_lines(rest: bytes) -> list[str]:
    if not rest or rest[0] != bitmaps.TLV:
        return []
    size, at = bitmaps.tlv_length(rest, 1)
    if at + size > len(rest):
        raise bitmaps.BitmapError("the display texts are cut short")
    lines: list[str] = []
    for tag, value in bitmaps.tlv_items(rest[at : at + size]):
        if tag == DISPLAY_TEXTS:
            items = bitmaps.tlv_items(value)
            lines += [v.decode("latin-1").strip() for t, v in items if t == TEXT_LINE]
    return [line for line in lines if line]


def _show(ex: Exchange, text: str, on_text: Callable[[str], None] | None) -> None:
    if not text:
        return
    ex.texts.append(text)
    if on_text is None:
        return
    try:
        on_text(text)
    except Exception:  # the screen's trouble must not leave the terminal unacknowledged
        _LOGGER.exception("zvt: on_text failed on %r", text)


def _ended(ex: Exchange, ending: Ending, note: str) -> Exchange:
    ex.ending = ending
    ex.note = note
    return ex
