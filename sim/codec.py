"""Kerong KR-CU16 frames, seen from the board's side (lock-protocol.md section 1).

Written from the spec alone and deliberately not shared with ``drivers/``: both are tested against
the golden frames in ``tests/data/kerong_frames.toml``, so a misreading of the spec on one side
does not hide behind the same misreading on the other.

Host -> board (section 1.3), ``SUM`` = low byte of the sum of every byte before it::

    02 ADDR CMD 03 SUM                 0x30 0x31 0x32 0x33, 0x37 as a query
    02 ADDR CMD D 03 SUM               0x39 (delay, s), 0x40 (baud code)
    02 ADDR 37 T_hi T_lo 03 SUM        0x37 set pulse, T in 10 ms units

Board -> host, always 9 bytes (section 1.5)::

    02 ADDR RCMD D1 D2 D3 D4 03 SUM    ADDR = board << 4

Stream decoding (:func:`scan`): a frame starts with STX; its length follows from CMD. A frame
with a wrong ETX or SUM, or an unknown CMD, is dropped silently (section 1.11; the CU16 has no NAK,
section 1.6.7). Only its STX is dropped, then the search for the next STX starts again inside it,
so a good frame that follows a torn one is never swallowed.

One ambiguity is the protocol's own: the first five bytes of the 7-byte set frame
``02 A 37 03 X 03 S`` form a valid 5-byte query when ``X`` equals their sum. When all seven bytes
are already buffered and valid, the set wins; otherwise the query is taken (a pure decoder cannot
wait for bytes that may never come). Pulse values 0x0300-0x03FF (7.68-10.23 s) are affected.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from sim.stream import Scan, StreamDecoder

STX = 0x02  # section 1.3
ETX = 0x03  # section 1.3
BROADCAST = 0xF  # ADDR high nibble meaning "every board on the bus", section 1.2
MAX_BOARD = 0x9  # highest DIP address, section 1.2 (0x0-0x9)
LOCKS_PER_BOARD = 16  # section 1.2: low nibble 0x0-0xF = lock 1-16
REPLY_LEN = 9  # bytes, section 1.5
PULSE_UNIT_MS = 10  # 0x37 time unit, section 1.3
PULSE_MAX_UNITS = 0x1770  # 60 s, section 1.3
DEFAULT_PULSE_MS = 550  # factory default 0x0037 units, sections 1.1 and 1.3
DELAY_MAX_S = 0xFA  # 0x39 delayed unlock, 0-250 s; larger values ignored, section 1.3
BAUD_BY_CODE = {0: 9600, 1: 19200, 2: 57600, 3: 115200}  # 0x40 D byte, section 1.3


class Cmd(IntEnum):
    """Host command codes (section 1.4)."""

    STATUS = 0x30
    UNLOCK = 0x31
    BUS_STATUS = 0x32
    UNLOCK_ALL = 0x33
    PULSE = 0x37
    DELAYED_UNLOCK = 0x39
    BAUD = 0x40


class ReplyCode(IntEnum):
    """Reply codes, RCMD (section 1.5)."""

    STATUS = 0x35  # to 0x30 and 0x33
    BUS_STATUS = 0x36  # to 0x32
    PULSE = 0x38  # to 0x37
    DELAYED_UNLOCK = 0x39  # to 0x39
    BAUD = 0x40  # to 0x40


# Allowed DATA lengths per command (section 1.3).
DATA_LENGTHS: dict[Cmd, tuple[int, ...]] = {
    Cmd.STATUS: (0,),
    Cmd.UNLOCK: (0,),
    Cmd.BUS_STATUS: (0,),
    Cmd.UNLOCK_ALL: (0,),
    Cmd.PULSE: (0, 2),
    Cmd.DELAYED_UNLOCK: (1,),
    Cmd.BAUD: (1,),
}
# Commands a board answers when ADDR's high nibble is 0xF (section 1.2).
BROADCASTABLE = frozenset({Cmd.BUS_STATUS, Cmd.PULSE, Cmd.DELAYED_UNLOCK, Cmd.BAUD})


class FrameError(ValueError):
    """Bytes that are not one valid frame."""


def checksum(data: bytes) -> int:
    """Low byte of the arithmetic sum of ``data`` (sections 1.3 and 1.5)."""
    return sum(data) & 0xFF


def _seal(body: bytes) -> bytes:
    return body + bytes([ETX, checksum(body + bytes([ETX]))])


@dataclass(frozen=True)
class Command:
    """One host -> board frame."""

    cmd: Cmd
    addr: int  # the whole ADDR byte: board << 4 | (lock - 1)
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.addr <= 0xFF:
            raise ValueError(f"ADDR {self.addr} is not a byte")
        if len(self.data) not in DATA_LENGTHS[self.cmd]:
            raise ValueError(f"{self.cmd.name} takes {DATA_LENGTHS[self.cmd]} data bytes")

    @property
    def board(self) -> int:
        """The addressed board, or 0xF for a broadcast."""
        return self.addr >> 4

    @property
    def lock(self) -> int:
        """Lock number 1-16 from ADDR's low nibble (meaningful for 0x31 only)."""
        return (self.addr & 0x0F) + 1

    @property
    def is_broadcast(self) -> bool:
        return self.board == BROADCAST

    @property
    def is_set(self) -> bool:
        """True for a 0x37 carrying a new pulse time (7-byte frame)."""
        return self.cmd is Cmd.PULSE and len(self.data) == 2

    @property
    def value(self) -> int:
        """The DATA as a big-endian integer (0 when there is none)."""
        return int.from_bytes(self.data, "big")

    def to_bytes(self) -> bytes:
        return _seal(bytes([STX, self.addr, self.cmd]) + self.data)

    @classmethod
    def from_bytes(cls, frame: bytes) -> Command:
        """Parse exactly one frame; raise :class:`FrameError` if it is not valid."""
        if len(frame) < 5 or frame[0] != STX:
            raise FrameError("no STX or too short")
        try:
            cmd = Cmd(frame[2])
        except ValueError:
            raise FrameError(f"unknown command 0x{frame[2]:02X}") from None
        n = len(frame) - 5
        if n not in DATA_LENGTHS[cmd]:
            raise FrameError(f"wrong length {len(frame)} for {cmd.name}")
        if frame[-2] != ETX or frame[-1] != checksum(frame[:-1]):
            raise FrameError("bad ETX or checksum")
        return cls(cmd, frame[1], bytes(frame[3 : 3 + n]))

    # -- constructors, for tests and tools
    @classmethod
    def status(cls, board: int) -> Command:
        return cls(Cmd.STATUS, board << 4)

    @classmethod
    def unlock(cls, board: int, lock: int) -> Command:
        if not 1 <= lock <= LOCKS_PER_BOARD:
            raise ValueError(f"lock {lock} outside 1..{LOCKS_PER_BOARD}")
        return cls(Cmd.UNLOCK, board << 4 | (lock - 1))

    @classmethod
    def bus_status(cls) -> Command:
        return cls(Cmd.BUS_STATUS, BROADCAST << 4)

    @classmethod
    def unlock_all(cls, board: int) -> Command:
        return cls(Cmd.UNLOCK_ALL, board << 4)

    @classmethod
    def query_pulse(cls, board: int) -> Command:
        return cls(Cmd.PULSE, board << 4)

    @classmethod
    def set_pulse(cls, board: int, pulse_ms: int) -> Command:
        return cls(Cmd.PULSE, board << 4, (pulse_ms // PULSE_UNIT_MS).to_bytes(2, "big"))


@dataclass(frozen=True)
class Reply:
    """One board -> host frame: RCMD and the four data bytes D1..D4."""

    board: int
    code: ReplyCode
    data: bytes  # D1 D2 D3 D4

    def __post_init__(self) -> None:
        if len(self.data) != 4 or not 0 <= self.board <= 0xF:
            raise ValueError("a reply has a 4-bit board and exactly four data bytes")

    @property
    def hooks(self) -> int:
        """Hook bits as a u16: D1 = locks 1-8, D2 = locks 9-16 (bit n-1 = lock n)."""
        return self.data[0] | self.data[1] << 8

    @property
    def items(self) -> int:
        """IR bits as a u16 (0x35/0x36/0x39 only): D3 = locks 1-8, D4 = locks 9-16."""
        return self.data[2] | self.data[3] << 8

    def to_bytes(self) -> bytes:
        return _seal(bytes([STX, self.board << 4, self.code]) + self.data)

    @classmethod
    def from_bytes(cls, frame: bytes) -> Reply:
        if len(frame) != REPLY_LEN or frame[0] != STX or frame[7] != ETX:
            raise FrameError("not a 9-byte reply")
        if frame[8] != checksum(frame[:8]):
            raise FrameError("bad checksum")
        try:
            code = ReplyCode(frame[2])
        except ValueError:
            raise FrameError(f"unknown reply code 0x{frame[2]:02X}") from None
        return cls(frame[1] >> 4, code, bytes(frame[3:7]))

    @classmethod
    def status(cls, board: int, code: ReplyCode, hooks: int, items: int) -> Reply:
        """0x35 / 0x36 / 0x39: hooks then IR bits."""
        return cls(board, code, hooks.to_bytes(2, "little") + items.to_bytes(2, "little"))

    @classmethod
    def pulse(cls, board: int, hooks: int, pulse_ms: int) -> Reply:
        """0x38: hooks then the pulse time in 10 ms units, big-endian."""
        units = pulse_ms // PULSE_UNIT_MS
        return cls(board, ReplyCode.PULSE, hooks.to_bytes(2, "little") + units.to_bytes(2, "big"))

    @classmethod
    def baud(cls, board: int, hooks: int, baud_code: int) -> Reply:
        """0x40: hooks, 0x00, the baud code."""
        return cls(board, ReplyCode.BAUD, hooks.to_bytes(2, "little") + bytes([0, baud_code]))


def _check(buf: bytes, length: int) -> Command | None:
    frame = buf[:length]
    if frame[-2] != ETX or frame[-1] != checksum(frame[:-1]):
        return None
    return Command(Cmd(frame[2]), frame[1], bytes(frame[3 : length - 2]))


def scan(buf: bytes) -> Scan[Command]:
    """Look at the start of ``buf`` (see :mod:`sim.stream`)."""
    if not buf:
        return Scan(0, None, False)
    if buf[0] != STX:
        nxt = buf.find(STX)
        return Scan(len(buf) if nxt < 0 else nxt, None, False)
    if len(buf) < 3:
        return Scan(0, None, False)
    try:
        cmd = Cmd(buf[2])
    except ValueError:
        return Scan(1, None, False)
    lengths = sorted((5 + n for n in DATA_LENGTHS[cmd]), reverse=True)
    if len(buf) < lengths[-1]:
        return Scan(0, None, False)
    for length in lengths:  # longest first: see the 0x37 note in the module docstring
        if len(buf) >= length:
            frame = _check(buf, length)
            if frame is not None:
                return Scan(length, frame, False)
    if len(buf) < lengths[0]:
        return Scan(0, None, False)  # the long form may still be arriving
    return Scan(1, None, True)


def decode(buf: bytes) -> tuple[int, Command | None]:
    """Pure stream step: ``(bytes consumed, frame or None)``; ``(0, None)`` = need more."""
    result = scan(buf)
    return result.consumed, result.frame


def new_decoder() -> StreamDecoder[Command]:
    """A buffered decoder for a stream of host frames."""
    return StreamDecoder(scan)
