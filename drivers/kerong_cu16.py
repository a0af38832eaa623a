"""Kerong KR-CU16: 16 locks and 16 IR item strips per board, up to 10 boards per line.

Frames (lock-protocol.md §1.3-§1.5), all checked with an 8-bit sum of every byte
before SUM::

    host → board   02 ADDR CMD [DATA 0-2 B] 03 SUM     ADDR = board << 4 | (lock - 1)
    board → host   02 ADDR RCMD D1 D2 D3 D4 03 SUM     always 9 bytes, ADDR = board << 4

D1/D2 are the hook bits of locks 1-8 / 9-16 (bit 0 = lock 1), D3/D4 the IR bits, except
in the 0x38 answer where D3 D4 carry the pulse time in 10 ms units. An unlock (0x31) is
never answered (§1.6.1): :meth:`Cu16Board.unlock` reads the board back after the pulse.
Replies are matched on the high nibble of ADDR only (§1.10, Q3).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from drivers.base import BoardBase
from drivers.board import RawStatus
from drivers.bus import LockBus
from drivers.counters import FailureKind
from drivers.errors import BadFrame
from drivers.framing import ETX, NOT_A_FRAME, STX, Verdict

_LOGGER = logging.getLogger(__name__)

# Command codes, host → board (lock-protocol.md §1.4)
CMD_STATUS = 0x30  # read one board
CMD_UNLOCK = 0x31  # pulse one lock; no answer
CMD_BUS_STATUS = 0x32  # read every board (ADDR 0xF0): one 0x36 answer per board
CMD_UNLOCK_ALL = 0x33  # pulse all 16 locks one by one; answered with 0x35
CMD_PULSE = 0x37  # query (5 B) or set (7 B) the pulse time
CMD_DELAYED_UNLOCK = 0x39  # §1.7 / Q4: semantics unclear, not used by the driver
CMD_SET_BAUD = 0x40  # newer firmware only (Q7), not used by the driver

# Answer codes, board → host (§1.5)
RPL_STATUS = 0x35  # to 0x30 and 0x33
RPL_BUS_STATUS = 0x36  # to 0x32, one per board
RPL_PULSE = 0x38  # to 0x37: D3 D4 = pulse time / 10 ms
RPL_DELAYED_UNLOCK = 0x39
RPL_BAUD = 0x40
REPLY_CODES = frozenset({RPL_STATUS, RPL_BUS_STATUS, RPL_PULSE, RPL_DELAYED_UNLOCK, RPL_BAUD})

BROADCAST = 0xF  # ADDR high nibble addressing every board (§1.2)
BAUD_CODES = {9600: 0, 19200: 1, 57600: 2, 115200: 3}  # D byte of 0x40 (§1.3)
MAX_DELAY_S = 250  # 0x39 delay limit (§1.3)
REPLY_LENGTH = 9  # bytes in every answer (§1.5)
PULSE_UNIT_MS = 10  # 0x37 counts in 10 ms steps (§1.3)
MAX_PULSE_MS = 0x1770 * PULSE_UNIT_MS  # 60 s, the spec's range for a set (§1.3)
FLASH_WRITE_S = 0.55  # quiet time after a 0x37 set: "> 500 ms" (§1.4, §1.6.6)
RELEASE_MARGIN_S = 0.1  # wait after the pulse before the read-back (§1.6.1: ">= pulse + margin")


def checksum(data: bytes) -> int:
    """Low 8 bits of the sum of ``data`` (§1.3)."""
    return sum(data) & 0xFF


def _check_byte(name: str, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"{name} must fit in one byte, not {value}")


@dataclass(frozen=True)
class Cu16Request:
    """A host → board frame: ``02 ADDR CMD [DATA] 03 SUM``."""

    address: int  # the whole ADDR byte
    command: int
    data: bytes = b""

    def __post_init__(self) -> None:
        _check_byte("address", self.address)
        _check_byte("command", self.command)
        if len(self.data) > 2:
            raise ValueError("a CU16 request carries at most 2 data bytes")

    @classmethod
    def status(cls, board: int) -> Cu16Request:
        return cls(board << 4, CMD_STATUS)

    @classmethod
    def unlock(cls, board: int, lock: int) -> Cu16Request:
        if not 1 <= lock <= Cu16Board.LOCKS:
            raise ValueError(f"CU16 locks are 1..16, not {lock}")
        return cls(board << 4 | (lock - 1), CMD_UNLOCK)

    @classmethod
    def bus_status(cls) -> Cu16Request:
        return cls(BROADCAST << 4, CMD_BUS_STATUS)

    @classmethod
    def unlock_all(cls, board: int) -> Cu16Request:
        return cls(board << 4, CMD_UNLOCK_ALL)

    @classmethod
    def query_pulse(cls, board: int) -> Cu16Request:
        return cls(board << 4, CMD_PULSE)

    @classmethod
    def set_pulse(cls, board: int, ms: int) -> Cu16Request:
        if not 0 <= ms <= MAX_PULSE_MS:
            raise ValueError(f"pulse time must be within 0..{MAX_PULSE_MS} ms")
        units = round(ms / PULSE_UNIT_MS).to_bytes(2, "big")
        if units[0] == ETX:
            # `02 ADDR 37 03 T_lo 03 SUM` opens with a well-formed 5-byte frame: the board
            # may take it for a pulse query, and one corrupted byte (0x37 -> 0x31) for an
            # unlock with a valid checksum. Refuse the whole range rather than risk a door.
            raise ValueError(
                "pulse times of 7680..10230 ms cannot be sent safely to a CU16; choose another"
            )
        return cls(board << 4, CMD_PULSE, units)

    @classmethod
    def delayed_unlock(cls, board: int, seconds: int) -> Cu16Request:
        if not 0 <= seconds <= MAX_DELAY_S:
            raise ValueError(f"delay must be within 0..{MAX_DELAY_S} s")
        return cls(board << 4, CMD_DELAYED_UNLOCK, bytes([seconds]))

    @classmethod
    def set_baud(cls, board: int, baud: int) -> Cu16Request:
        if baud not in BAUD_CODES:
            raise ValueError(f"baud must be one of {sorted(BAUD_CODES)}")
        return cls(board << 4, CMD_SET_BAUD, bytes([BAUD_CODES[baud]]))

    @property
    def board(self) -> int:
        return self.address >> 4

    @property
    def lock(self) -> int:
        """The lock an unlock addresses (1-16)."""
        return (self.address & 0x0F) + 1

    def to_bytes(self) -> bytes:
        body = bytes([STX, self.address, self.command, *self.data, ETX])
        return body + bytes([checksum(body)])

    @classmethod
    def from_bytes(cls, raw: bytes) -> Cu16Request:
        """Decode a request (used by tests and traffic logs). :raises BadFrame:"""
        if not 5 <= len(raw) <= 7:
            raise BadFrame(f"a CU16 request is 5-7 bytes, not {len(raw)}: {raw.hex(' ')}")
        if raw[0] != STX or raw[-2] != ETX:
            raise BadFrame(f"STX/ETX misplaced in {raw.hex(' ')}")
        if checksum(raw[:-1]) != raw[-1]:
            raise BadFrame(f"checksum mismatch in {raw.hex(' ')}")
        return cls(raw[1], raw[2], bytes(raw[3:-2]))


@dataclass(frozen=True)
class Cu16Reply:
    """A board → host frame: ``02 ADDR RCMD D1 D2 D3 D4 03 SUM``."""

    address: int
    code: int
    data: bytes  # D1 D2 D3 D4

    def __post_init__(self) -> None:
        _check_byte("address", self.address)
        _check_byte("code", self.code)
        if len(self.data) != 4:
            raise ValueError("a CU16 reply carries exactly 4 data bytes")

    @classmethod
    def status(cls, board: int, hooks: int, items: int, code: int = RPL_STATUS) -> Cu16Reply:
        """Build a status answer from bit masks (bit n-1 = lock n)."""
        return cls(board << 4, code, hooks.to_bytes(2, "little") + items.to_bytes(2, "little"))

    @property
    def board(self) -> int:
        return self.address >> 4

    @property
    def hooks(self) -> int:
        """Hook bits, bit n-1 = lock n (D1 | D2 << 8)."""
        return int.from_bytes(self.data[0:2], "little")

    @property
    def items(self) -> int:
        """IR item bits, bit n-1 = lock n (D3 | D4 << 8); meaningless in a 0x38 answer."""
        return int.from_bytes(self.data[2:4], "little")

    @property
    def pulse_ms(self) -> int:
        """Pulse time of a 0x38 answer (D3 D4, big-endian, 10 ms units)."""
        return int.from_bytes(self.data[2:4], "big") * PULSE_UNIT_MS

    @property
    def baud(self) -> int | None:
        """Line rate of a 0x40 answer (D4 code), None for an unknown code."""
        return next((rate for rate, code in BAUD_CODES.items() if code == self.data[3]), None)

    def to_bytes(self) -> bytes:
        body = bytes([STX, self.address, self.code, *self.data, ETX])
        return body + bytes([checksum(body)])

    @classmethod
    def from_bytes(cls, raw: bytes) -> Cu16Reply:
        """Decode and check one answer. :raises BadFrame: length, STX/ETX, code or sum wrong."""
        if len(raw) != REPLY_LENGTH:
            raise BadFrame(f"a CU16 reply is 9 bytes, not {len(raw)}: {raw.hex(' ')}")
        verdict = REPLY_RULE.verify(raw)
        if verdict is not Verdict.OK or raw[2] not in REPLY_CODES:
            raise BadFrame(
                f"{verdict.value if verdict is not Verdict.OK else 'unknown code'} "
                f"in {raw.hex(' ')}"
            )
        return cls(raw[1], raw[2], bytes(raw[3:7]))


class _ReplyRule:
    """Framing of CU16 answers for :mod:`drivers.framing`: 9 bytes, known codes."""

    min_length = REPLY_LENGTH
    max_length = REPLY_LENGTH

    def frame_length(self, head: bytes) -> int | None:
        if len(head) < 3:
            return None
        return REPLY_LENGTH if head[2] in REPLY_CODES else NOT_A_FRAME

    def verify(self, frame: bytes) -> Verdict:
        if frame[0] != STX or frame[7] != ETX:
            return Verdict.MALFORMED
        return Verdict.OK if checksum(frame[:8]) == frame[8] else Verdict.BAD_CHECKSUM


REPLY_RULE = _ReplyRule()


def _answer(code: int, board: int) -> Callable[[bytes], Cu16Reply | None]:
    """An ``accept`` for :meth:`LockBus.request`: answers with ``code`` from ``board``."""

    def accept(raw: bytes) -> Cu16Reply | None:
        reply = Cu16Reply.from_bytes(raw)
        return reply if reply.code == code and reply.board == board else None

    return accept


class Cu16Board(BoardBase):
    """One KR-CU16 on a :class:`LockBus`. Addresses 0-9 (DIP switch), locks 1-16."""

    TYPE: ClassVar[str] = "cu16"
    LOCKS: ClassVar[int] = 16
    ADDRESSES: ClassVar[range] = range(0, 10)  # §1.1: up to 10 boards, DIP 0-9
    HAS_IR: ClassVar[bool] = True
    HAS_BUS_READ: ClassVar[bool] = True
    RELEASE_MARGIN_S: ClassVar[float] = RELEASE_MARGIN_S

    def unlock_all(self) -> RawStatus:
        """Pulse all 16 locks one by one (0x33); returns the board's answer. Not retried."""
        reply = self.bus.request(
            Cu16Request.unlock_all(self.address).to_bytes(),
            REPLY_RULE,
            _answer(RPL_STATUS, self.address),
            retries=0,
        )
        return RawStatus(reply.hooks, reply.items)

    def _read_raw(self) -> RawStatus:
        frame = Cu16Request.status(self.address).to_bytes()
        reply = self.bus.request(frame, REPLY_RULE, _answer(RPL_STATUS, self.address))
        return RawStatus(reply.hooks, reply.items)

    def _pulse(self, lock: int) -> None:
        self.bus.send(Cu16Request.unlock(self.address, lock).to_bytes())

    def _query_pulse(self) -> int:
        frame = Cu16Request.query_pulse(self.address).to_bytes()
        return self.bus.request(frame, REPLY_RULE, _answer(RPL_PULSE, self.address)).pulse_ms

    def _set_pulse(self, ms: int) -> int:
        frame = Cu16Request.set_pulse(self.address, ms).to_bytes()
        reply = self.bus.request(
            frame, REPLY_RULE, _answer(RPL_PULSE, self.address), quiet_after_s=FLASH_WRITE_S
        )
        return reply.pulse_ms

    @classmethod
    def _read_bus_raw(
        cls, bus: LockBus, addresses: Sequence[int], failures: list[FailureKind]
    ) -> dict[int, RawStatus]:
        wanted = frozenset(addresses)

        def accept(raw: bytes) -> tuple[int, RawStatus] | None:
            reply = Cu16Reply.from_bytes(raw)
            if reply.code != RPL_BUS_STATUS or reply.board not in wanted:
                return None
            return reply.board, RawStatus(reply.hooks, reply.items)

        return bus.gather(
            Cu16Request.bus_status().to_bytes(),
            REPLY_RULE,
            accept,
            expect=len(wanted),
            reply_bytes=REPLY_LENGTH,
            failures=failures,
        )
