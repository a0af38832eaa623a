"""What the simulated terminal says to each command, message by message.

Payment (``06 01``): acknowledge; "insert card" (``04 FF 0A``); the card's time; "PIN"
(``04 FF 01``); the PIN's time; "please wait" (``04 FF 0E``); the issuer's time; the status
information (``04 0F``: result ``27``, amount ``04``, trace ``0B``, time, date, receipt
``87``, card type ``8A`` and name ``8B``); the receipt as print lines when the station
asked for them at registration; the completion (``06 0F``). The faults of
:class:`sim.zvt.terminal.ZvtFault` change that order as their names say.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from sim.zvt.codec import Frame, FrameError, bcd, lllvar, llvar, pack, read_fields, tlv, unbcd
from sim.zvt.terminal import Payment, TerminalSim, ZvtFault


class Session(Protocol):
    """What a script needs of its connection (:class:`sim.zvt.session.Session`)."""

    sim: TerminalSim

    def send(self, cls: int, ins: int, payload: bytes = b"") -> None: ...
    def send_raw(self, raw: bytes) -> None: ...
    def tell(self, cls: int, ins: int, payload: bytes = b"") -> bool: ...
    def final(self, cls: int, ins: int, payload: bytes = b"") -> bool: ...
    def refuse(self, code: int) -> None: ...
    def wait(self, seconds: float, *, abortable: bool) -> bool: ...
    def hang_up(self) -> None: ...


INSERT_CARD, WATCH_PIN_PAD, PLEASE_WAIT = 0x0A, 0x01, 0x0E
APPROVED, DECLINED, TIMED_OUT = 0x00, 0x05, 0x6C
ALREADY_REVERSED, REVERSAL_NOT_POSSIBLE = 0xB4, 0xB5
NOT_POSSIBLE = 0x83
EUR = bcd(978, 2)
GIROCARD = 0x05
ECR_PRINTS_PAYMENT, ECR_PRINTS_ADMIN, TEXT_BLOCKS = 0x02, 0x04, 0x80


def _refuse(s: Session, code: int = NOT_POSSIBLE) -> None:
    s.refuse(code)


def _password_ok(s: Session, payload: bytes) -> bool:
    return payload[:3] == bcd(int(s.sim.password), 3)


def _now() -> bytes:
    """Bitmaps 0C (hhmmss) and 0D (MMDD) of the local time."""
    t = time.localtime()
    return (
        b"\x0c"
        + bcd(t.tm_hour * 10000 + t.tm_min * 100 + t.tm_sec, 3)
        + b"\x0d"
        + bcd(t.tm_mon * 100 + t.tm_mday, 2)
    )


def _intermediate(s: Session, status: int) -> bool:
    data = bytes([status, 60])  # status, the terminal's timeout (s)
    if ZvtFault.UNKNOWN_BITMAPS in s.sim.faults:
        words = {INSERT_CARD: b"Karte einstecken", WATCH_PIN_PAD: b"PIN eingeben"}
        inner = tlv(0x1F40, b"\x01\x02\x03")  # a vendor's tag the station does not know
        if status in words:
            inner += tlv(0x24, tlv(0x07, words[status]))
        data += tlv(0x06, inner)
    return s.tell(0x04, 0xFF, data)


def _receipt_lines(s: Session, lines: list[str], admin: bool) -> bool:
    wanted = ECR_PRINTS_ADMIN if admin else ECR_PRINTS_PAYMENT
    if not s.sim.config & wanted:
        return True  # the terminal prints them itself
    if s.sim.config & TEXT_BLOCKS:
        block = b"".join(tlv(0x07, line.encode("latin-1")) for line in lines)
        return s.tell(0x06, 0xD3, tlv(0x06, tlv(0x25, block)))
    return all(s.tell(0x06, 0xD1, b"\x00" + line.encode("latin-1")) for line in lines)


# -- the commands ------------------------------------------------------------------------
def registration(s: Session, frame: Frame) -> None:
    """06 00: password, config byte, then optionally the currency (49 09 78, or the
    spec's bare 09 78) and a service byte (03 xx)."""
    data = frame.payload
    if len(data) < 4 or not _password_ok(s, data):
        _refuse(s)
        return
    rest = data[4:]
    if rest[:1] not in (b"", b"\x49", b"\x03"):
        currency, rest = rest[:2], rest[2:]  # the bare form
        if currency != EUR:
            _refuse(s, 0x6F)
            return
    try:
        fields = read_fields(rest)
    except FrameError:
        _refuse(s)
        return
    if fields.get(0x49, EUR) != EUR:
        _refuse(s, 0x6F)  # wrong currency
        return
    s.sim.config = data[3]
    s.sim.registered = True
    s.send(0x80, 0x00)
    s.final(0x06, 0x0F, b"\x19\x00\x29" + bcd(s.sim.terminal_id, 4) + b"\x49" + EUR)


def payment(s: Session, frame: Frame) -> None:
    sim = s.sim
    try:
        fields = read_fields(frame.payload)
        cents = unbcd(fields[0x04])
    except (FrameError, KeyError):
        _refuse(s)
        return
    if not sim.registered or cents == 0:
        _refuse(s)
        return
    s.send(0x80, 0x00)
    if not _intermediate(s, INSERT_CARD):
        return
    if ZvtFault.WALK_AWAY in sim.faults:
        _abort(s, s.wait(sim.times.terminal_timeout_s, abortable=True))
        return
    if s.wait(sim.times.card_s, abortable=True):
        _abort(s, True)
        return
    if not _intermediate(s, WATCH_PIN_PAD):
        return
    if s.wait(sim.times.pin_s, abortable=True):
        _abort(s, True)
        return
    if not _intermediate(s, PLEASE_WAIT):
        return
    s.wait(sim.times.host_s, abortable=False)
    if ZvtFault.DECLINED in sim.faults:
        if s.tell(0x04, 0x0F, b"\x27" + bytes([DECLINED]) + b"\x04" + bcd(cents, 6) + _now()):
            s.final(0x06, 0x1E, bytes([DECLINED]))
        return
    receipt, trace = sim.next_numbers()
    sim.journal.append(Payment(receipt=receipt, trace=trace, amount_cents=cents))
    status = _approved(s, cents, receipt, trace)
    if ZvtFault.LOST_AFTER_APPROVAL in sim.faults:
        s.send(0x04, 0x0F, status)
        s.hang_up()
    if ZvtFault.GARBAGE in sim.faults:
        s.send_raw(b"\x27\x00\x06\x0f\x00" + status)  # a frame's bytes, but no frame
        s.hang_up()
    if ZvtFault.TORN in sim.faults:
        s.send_raw(pack(0x04, 0x0F, status)[: len(status) // 2])
        s.hang_up()
    if not s.tell(0x04, 0x0F, status) or ZvtFault.NO_COMPLETION in sim.faults:
        return
    lines = [
        "Kartenzahlung",
        "girocard",
        f"EUR {cents // 100},{cents % 100:02d}",
        f"Beleg-Nr. {receipt:04d}  Trace {trace:06d}",
        "Karte ############1234",
    ]
    if _receipt_lines(s, lines, admin=False):
        s.final(0x06, 0x0F, b"")


def _approved(s: Session, cents: int, receipt: int, trace: int) -> bytes:
    """The status information of an approved payment (or reversal)."""
    extra = ZvtFault.UNKNOWN_BITMAPS in s.sim.faults
    data = b"\x27\x00\x04" + bcd(cents, 6) + b"\x0b" + bcd(trace, 3) + _now()
    data += b"\x0e" + bcd(2812, 2) + b"\x19\x40" + llvar(0x22, bcd(6726, 2))  # masked
    data += b"\x29" + bcd(s.sim.terminal_id, 4)
    if extra:  # fields a station does not use, of every length form
        data += b"\x2a" + b"VU123456789012\x20" + b"\x3b" + b"A0000003"
        data += lllvar(0x3C, b"Additional text") + tlv(0x06, tlv(0x1F41, b"\xaa" * 130))
        data += b"\xa0\x00\x8c\x05"
    data += b"\x49" + EUR + b"\x87" + bcd(receipt, 2) + b"\x8a" + bytes([GIROCARD])
    data += llvar(0x8B, b"girocard")
    if extra:
        data += b"\xf5\x01\x02\x03"  # a tag of no known length, at the end
    return data


def _abort(s: Session, by_station: bool) -> None:
    """The customer is gone (the terminal's timeout) or the station aborted."""
    if by_station:
        s.send(0x80, 0x00)
    s.final(0x06, 0x1E, bytes([TIMED_OUT]))


def reversal(s: Session, frame: Frame) -> None:
    """06 30: password, then the receipt number (87) of the payment to cancel."""
    sim = s.sim
    try:
        fields = read_fields(frame.payload[3:])
        number = unbcd(fields[0x87])
    except (FrameError, KeyError):
        _refuse(s)
        return
    if not _password_ok(s, frame.payload) or not sim.registered:
        _refuse(s)
        return
    s.send(0x80, 0x00)
    if not _intermediate(s, PLEASE_WAIT):
        return
    s.wait(sim.times.host_s, abortable=False)
    found = [p for p in sim.batch() if p.receipt == number]
    if not found or ZvtFault.NO_REVERSAL in sim.faults:
        s.final(0x06, 0x1E, bytes([REVERSAL_NOT_POSSIBLE]))
        return
    if found[0].reversed_by is not None:
        s.final(0x06, 0x1E, bytes([ALREADY_REVERSED]))
        return
    receipt, trace = sim.next_numbers()
    found[0].reversed_by = receipt
    cents = found[0].amount_cents
    if not s.tell(0x04, 0x0F, _approved(s, cents, receipt, trace)):
        return
    lines = ["Storno", f"EUR {cents // 100},{cents % 100:02d}", f"Beleg-Nr. {receipt:04d}"]
    if _receipt_lines(s, lines, admin=False):
        s.final(0x06, 0x0F, b"")


def end_of_day(s: Session, frame: Frame) -> None:
    """06 50: the batch's total (04), its single totals (60), and the batch closed."""
    sim = s.sim
    if not _password_ok(s, frame.payload):
        _refuse(s)
        return
    s.send(0x80, 0x00)
    if not _intermediate(s, PLEASE_WAIT):
        return
    s.wait(sim.times.host_s, abortable=False)
    batch = sim.batch()
    kept = [p for p in batch if p.reversed_by is None]
    total = sum(p.amount_cents for p in kept)
    first = min((p.receipt for p in batch), default=0)
    last = max((p.receipt for p in batch), default=0)
    families = bytes([min(len(kept), 255)]) + bcd(total, 6)  # girocard
    families += (b"\x00" + bcd(0, 6)) * 6  # JCB, Eurocard, Amex, Visa, Diners, others
    totals = bcd(first, 2) + bcd(last, 2) + families
    if not s.tell(0x04, 0x0F, b"\x27\x00\x04" + bcd(total, 6) + _now() + lllvar(0x60, totals)):
        return
    for p in batch:
        p.settled = True
    lines = ["Kassenschnitt", f"{len(kept)} Zahlung(en)", f"EUR {total // 100},{total % 100:02d}"]
    if _receipt_lines(s, lines, admin=True):
        s.final(0x06, 0x0F, b"")


def status_enquiry(s: Session, frame: Frame) -> None:
    """05 01: the terminal is there, registered or not."""
    if not _password_ok(s, frame.payload):
        _refuse(s)
        return
    s.send(0x80, 0x00)
    if s.tell(0x04, 0x0F, b"\x27\x00\x29" + bcd(s.sim.terminal_id, 4)):
        s.final(0x06, 0x0F, b"")


def log_off(s: Session, frame: Frame) -> None:
    """06 02: the registration ends."""
    s.sim.registered = False
    s.send(0x80, 0x00)


def idle_abort(s: Session, frame: Frame) -> None:
    """06 B0 with nothing running: nothing to abort."""
    _refuse(s)


COMMANDS: dict[tuple[int, int], Callable[[Session, Frame], None]] = {
    (0x06, 0x00): registration,
    (0x06, 0x01): payment,
    (0x06, 0x30): reversal,
    (0x06, 0x50): end_of_day,
    (0x05, 0x01): status_enquiry,
    (0x06, 0x02): log_off,
    (0x06, 0xB0): idle_abort,
}
