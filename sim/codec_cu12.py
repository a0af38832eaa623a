"""Kerong KR-CU12 frames, seen from the board's side (lock-protocol.md section 2).

Same frame both ways (section 2.1); DATA follows SUM but is included in it::

    02 ADDR LOCKNUM CMD ASK DATALEN 03 SUM DATA...

Written from the spec alone, not shared with ``drivers/`` (see :mod:`sim.codec`).

Stream decoding (:func:`scan`), host -> board. A candidate starts with STX and has CMD in
0x80-0x8F, ASK 0x00 (a host frame; board replies carry a result code there), DATALEN <= 40 and ETX
at offset 6; anything else is dropped silently, one byte at a time, until the next STX. A candidate
that is intact but for its SUM is returned as :class:`ChecksumError`: the CU12, unlike the CU16,
has a result code for it (ASK 0x14, section 2.1), and the addressed board answers it without acting.
We answer 0x14 only to such an intact frame: when the ETX or the length is wrong the board cannot
know where the frame ends or whom it was for, so it stays silent. A known CMD in 0x80-0x8F that
the table of section 2.2 does not define is decoded normally and answered ASK 0x13 by the board.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from sim.stream import Scan, StreamDecoder

STX = 0x02  # section 2.1
ETX = 0x03  # section 2.1
HEADER_LEN = 8  # STX..SUM, section 2.1
MAX_DATA_LEN = 40  # frames are at most 48 B, section 2.1
ALL_BOARDS = 0x10  # ADDR meaning every board, section 2.1
MAX_BOARD = 0x0F  # section 2.1
ALL_LOCKS = 0x0C  # LOCKNUM meaning all 12 locks, section 2.1
LOCKS_PER_BOARD = 12  # LOCKNUM 0x00-0x0B = lock 1-12, section 2.1
CMD_FIRST, CMD_LAST = 0x80, 0x8F  # command range, section 2.1
PULSE_UNIT_MS = 10  # 0x82, section 2.2
PULSE_MAX_UNITS = 6000  # 60 s, section 2.2
DEFAULT_PULSE_MS = 550  # 55 units, section 2.2
DELAY_MAX_S = 200  # 0x84 / 0x85, section 2.2
BAUD_BY_CODE = {0: 9600, 1: 19200, 2: 57600, 3: 115200}  # 0x83, section 2.2
DEFAULT_VERSION = (0x10, 0x12)  # soft, hard: the spec's example reply to 0x8F, section 2.3


class Cmd(IntEnum):
    """Command codes defined by section 2.2."""

    STATUS = 0x80
    UNLOCK = 0x81
    PULSE = 0x82
    BAUD = 0x83
    DELAYED_UNLOCK = 0x84
    PUSH_DOOR = 0x85
    INITIALISE = 0x8E
    VERSION = 0x8F


class Ask(IntEnum):
    """The ASK byte (section 2.1)."""

    REQUEST = 0x00  # host -> board
    OK = 0x10
    FAILED = 0x11
    TIMEOUT = 0x12
    UNKNOWN_COMMAND = 0x13
    CHECKSUM_ERROR = 0x14


class FrameError(ValueError):
    """Bytes that are not one valid frame."""


def checksum(head: bytes, data: bytes = b"") -> int:
    """Low byte of the sum of bytes 0-6 plus every DATA byte (section 2.1)."""
    return (sum(head) + sum(data)) & 0xFF


@dataclass(frozen=True)
class Frame:
    """One CU12 frame, either direction."""

    addr: int
    lock: int  # the LOCKNUM byte: 0-based lock index, 0x0C = all
    cmd: int  # a :class:`Cmd`, or another code in 0x80-0x8F
    ask: int = Ask.REQUEST
    data: bytes = b""

    def __post_init__(self) -> None:
        if not all(0 <= b <= 0xFF for b in (self.addr, self.lock, self.cmd, self.ask)):
            raise ValueError("header fields are bytes")
        if len(self.data) > MAX_DATA_LEN:
            raise ValueError(f"DATA longer than {MAX_DATA_LEN}")

    @property
    def lock_number(self) -> int:
        """1-based lock number (13 means all)."""
        return self.lock + 1

    def to_bytes(self) -> bytes:
        head = bytes([STX, self.addr, self.lock, self.cmd, self.ask, len(self.data), ETX])
        return head + bytes([checksum(head, self.data)]) + self.data

    @classmethod
    def from_bytes(cls, frame: bytes) -> Frame:
        """Parse exactly one frame; raise :class:`FrameError` if it is not valid."""
        if len(frame) < HEADER_LEN or frame[0] != STX or frame[6] != ETX:
            raise FrameError("no STX/ETX or too short")
        if len(frame) != HEADER_LEN + frame[5]:
            raise FrameError("length does not match DATALEN")
        if frame[7] != checksum(frame[:7], frame[8:]):
            raise FrameError("bad checksum")
        return cls(frame[1], frame[2], frame[3], frame[4], bytes(frame[8:]))

    # -- host frame constructors, for tests and tools
    @classmethod
    def status(cls, board: int) -> Frame:
        return cls(board, 0, Cmd.STATUS)

    @classmethod
    def unlock(cls, board: int, lock: int) -> Frame:
        if not 1 <= lock <= LOCKS_PER_BOARD:
            raise ValueError(f"lock {lock} outside 1..{LOCKS_PER_BOARD}")
        return cls(board, lock - 1, Cmd.UNLOCK)

    @classmethod
    def unlock_all(cls, board: int) -> Frame:
        return cls(board, ALL_LOCKS, Cmd.UNLOCK)

    @classmethod
    def query_pulse(cls, board: int) -> Frame:
        return cls(board, 0, Cmd.PULSE)

    @classmethod
    def set_pulse(cls, board: int, pulse_ms: int) -> Frame:
        units = pulse_ms // PULSE_UNIT_MS
        return cls(board, 0, Cmd.PULSE, data=units.to_bytes(2, "big"))

    def reply(self, addr: int, ask: int, data: bytes = b"") -> Frame:
        """The answer board ``addr`` gives to this frame: LOCKNUM and CMD echoed."""
        return Frame(addr, self.lock, self.cmd, ask, data)


@dataclass(frozen=True)
class ChecksumError:
    """A host frame intact in every way but its SUM (answered ASK 0x14, never acted on)."""

    addr: int
    lock: int
    cmd: int
    raw: bytes

    def reply(self, addr: int) -> Frame:
        return Frame(addr, self.lock, self.cmd, Ask.CHECKSUM_ERROR)


Request = Frame | ChecksumError


def scan(buf: bytes) -> Scan[Request]:
    """Look at the start of ``buf`` (see :mod:`sim.stream`)."""
    if not buf:
        return Scan(0, None, False)
    if buf[0] != STX:
        nxt = buf.find(STX)
        return Scan(len(buf) if nxt < 0 else nxt, None, False)
    if len(buf) < 7:
        return Scan(0, None, False)
    if not (CMD_FIRST <= buf[3] <= CMD_LAST and buf[4] == Ask.REQUEST and buf[5] <= MAX_DATA_LEN):
        return Scan(1, None, False)  # not a host frame: garbage, or another board's reply
    if buf[6] != ETX:
        return Scan(1, None, True)
    length = HEADER_LEN + buf[5]
    if len(buf) < length:
        return Scan(0, None, False)
    frame = bytes(buf[:length])
    if frame[7] != checksum(frame[:7], frame[8:]):
        # Report it, but drop only the STX: a good frame may start inside (see sim.stream).
        return Scan(1, ChecksumError(frame[1], frame[2], frame[3], frame), True, length)
    return Scan(length, Frame(frame[1], frame[2], frame[3], frame[4], frame[8:]), False)


def decode(buf: bytes) -> tuple[int, Request | None]:
    """Pure stream step: ``(bytes consumed, frame or None)``; ``(0, None)`` = need more."""
    result = scan(buf)
    return result.consumed, result.frame


def new_decoder() -> StreamDecoder[Request]:
    """A buffered decoder for a stream of host frames."""
    return StreamDecoder(scan)
