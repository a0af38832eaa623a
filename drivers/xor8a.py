"""The generic "8A/80" RS485 lock board (lock-protocol.md §4): 8 to 50 locks, XOR check.

Every frame is ``HEAD BB LL CMD X`` (X = XOR of the bytes before it), 9600 8N1, DIP
address 1-31::

    unlock   8A BB LL 11 X   answer 8A BB LL SS X      SS 00 / 11: opened / failed
    read one 80 BB LL 33 X   answer 80 BB LL SS X      SS 11 / 00: the feedback bit
    read all 80 BB 00 33 X   answer 80 BB Gn..G1 33 X  one bitmap byte per 8 locks,
                                                        highest group first

The feedback polarity is the board's ``hook_polarity``: ``engaged_high`` for a lock that
is "short-circuited when locked" (bit 1 = closed, unlock answer 00 = opened), the
vendor's default; ``engaged_low`` the other way round. The board answers an unlock once
it has tried (after its pulse), so the answer's deadline includes the pulse time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import ClassVar

from drivers.base import BoardBase
from drivers.board import ENGAGED_HIGH, RawStatus
from drivers.bus import LockBus
from drivers.counters import FailureKind
from drivers.errors import BadFrame, NoAnswer
from drivers.framing import NOT_A_FRAME, Verdict

_LOGGER = logging.getLogger(__name__)

UNLOCK = 0x8A  # head of an unlock and of its answer
READ = 0x80  # head of a read and of its answer
CMD_UNLOCK = 0x11
CMD_READ = 0x33
SET = 0x11  # a status byte with the feedback bit set
CLEAR = 0x00
FRAME_LENGTH = 5
MAX_CHANNELS = 50
MAX_GROUPS = (MAX_CHANNELS + 7) // 8
BAUD = 9600
DEFAULT_PULSE_MS = 500  # the board's own pulse; it is not settable over the wire


def xor(data: bytes) -> int:
    """The check byte: XOR of every byte."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def frame(head: int, board: int, lock: int, cmd: int) -> bytes:
    """``head board lock cmd X`` (lock 0 = every lock)."""
    body = bytes([head, board, lock, cmd])
    return body + bytes([xor(body)])


def unlock_frame(board: int, lock: int) -> bytes:
    return frame(UNLOCK, board, lock, CMD_UNLOCK)


def read_frame(board: int, lock: int = 0) -> bytes:
    return frame(READ, board, lock, CMD_READ)


def groups(channels: int) -> int:
    """Bitmap bytes in a read-all answer."""
    return (channels + 7) // 8


def decode_bitmap(answer: bytes) -> int:
    """Lock bits of a read-all answer (bit n-1 = lock n): the groups come highest first."""
    return int.from_bytes(answer[2:-2], "big")


class _Rule:
    """Framing of answers with head ``head`` and a known length."""

    def __init__(self, head: int, length: int, *, tail: int | None = None) -> None:
        self.start_bytes = frozenset({head})
        self.min_length = self.max_length = length
        self._length = length
        self._tail = tail  # the byte before X (0x33 in a read-all answer)

    def frame_length(self, head: bytes) -> int | None:
        return self._length

    def verify(self, candidate: bytes) -> Verdict:
        if self._tail is not None and candidate[-2] != self._tail:
            return Verdict.MALFORMED
        return Verdict.OK if xor(candidate[:-1]) == candidate[-1] else Verdict.BAD_CHECKSUM


class ScanRule:
    """A read-all answer of unknown length (``locker hw scan``): the shortest run ending
    ``33 X`` with a good XOR, 5 to 11 bytes."""

    start_bytes = frozenset({READ})
    min_length = FRAME_LENGTH
    max_length = MAX_GROUPS + 4

    def frame_length(self, head: bytes) -> int | None:
        for length in range(self.min_length, min(len(head), self.max_length) + 1):
            if head[length - 2] == CMD_READ and xor(head[: length - 1]) == head[length - 1]:
                return length
        return None if len(head) < self.max_length else NOT_A_FRAME

    def verify(self, candidate: bytes) -> Verdict:
        return Verdict.OK if xor(candidate[:-1]) == candidate[-1] else Verdict.BAD_CHECKSUM


def _answer(head: int, board: int, lock: int | None) -> Callable[[bytes], bytes | None]:
    def accept(raw: bytes) -> bytes | None:
        if raw[0] != head or raw[1] != board:
            return None
        if lock is not None and raw[2] != lock:
            return None
        return raw

    return accept


class Xor8aBoard(BoardBase):
    """One 8A/80 board on a :class:`LockBus`. Addresses 1-31, 8 to 50 locks, no IR."""

    TYPE: ClassVar[str] = "xor8a"
    LOCKS: ClassVar[int] = 8
    CHANNELS: ClassVar[range] = range(8, MAX_CHANNELS + 1)
    ADDRESSES: ClassVar[range] = range(1, 32)
    HAS_IR: ClassVar[bool] = False
    HAS_BUS_READ: ClassVar[bool] = False
    PULSE_ANSWERED_AFTER: ClassVar[bool] = True

    last_unlock_answer: bool | None = None  # the board's own word on the last unlock

    def _read_raw(self) -> RawStatus:
        length = groups(self.lock_count) + 4
        answer = self.bus.request(
            read_frame(self.address),
            _Rule(READ, length, tail=CMD_READ),
            _answer(READ, self.address, None),
        )
        return RawStatus(decode_bitmap(answer), None)

    def read_lock(self, lock: int) -> bool:
        """Read one lock (``80 BB LL 33``): True when it reads engaged (polarity applied)."""
        self._check_lock(lock)
        answer = self._noted(
            lambda: self.bus.request(
                read_frame(self.address, lock),
                _Rule(READ, FRAME_LENGTH),
                _answer(READ, self.address, lock),
            )
        )
        return self._bit(answer[3])

    def _pulse(self, lock: int) -> None:
        answer = self.bus.request(
            unlock_frame(self.address, lock),
            _Rule(UNLOCK, FRAME_LENGTH),
            _answer(UNLOCK, self.address, lock),
            retries=0,
            wait_s=self.pulse_ms / 1000,
        )
        # "short when locked" (engaged_high): 00 = opened; the other wiring: 11 = opened
        opened = not self._bit(answer[3])
        self.last_unlock_answer = opened
        _LOGGER.info(
            "board %d lock %d: the board says %s",
            self.address,
            lock,
            "opened" if opened else "failed",
        )

    def _bit(self, status: int) -> bool:
        """A status byte as a bit, in the feedback polarity of ``engaged_high``."""
        if status not in (SET, CLEAR):
            raise BadFrame(f"status byte 0x{status:02X} is neither 00 nor 11")
        bit = status == SET
        return bit if self.hook_polarity == ENGAGED_HIGH else not bit

    def _query_pulse(self) -> int:
        return self.pulse_ms  # the board keeps its pulse to itself: what the layout says

    def _set_pulse(self, ms: int) -> int:
        raise ValueError("the 8A/80 board has no pulse setting over the wire")

    @classmethod
    def _read_bus_raw(
        cls, bus: LockBus, addresses: Sequence[int], failures: list[FailureKind]
    ) -> dict[int, RawStatus]:
        # Never called: HAS_BUS_READ is False, the 8A/80 protocol has no broadcast read
        # (read_bus reads board by board); the base class requires the method.
        raise NotImplementedError("the 8A/80 board has no whole-bus read")


def probe(bus: LockBus, address: int) -> int | None:
    """The channel count (rounded up to 8) of a board at ``address``, None if silent."""
    try:
        answer = bus.request(read_frame(address), ScanRule(), _answer(READ, address, None))
    except (NoAnswer, BadFrame):
        return None
    return (len(answer) - 4) * 8
