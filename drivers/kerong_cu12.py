"""Kerong KR-CU12: 12 locks per board, up to 16 boards per line, every request answered.

One frame shape both ways (lock-protocol.md §2.1); DATA comes *after* SUM but is
included in it::

    02 ADDR LOCK CMD ASK LEN 03 SUM DATA...     8 + LEN bytes
       ADDR  board 0x00-0x0F, 0x10 = every board      LOCK  lock - 1, 0x0C = all 12
       ASK   0x00 from the host; the board's result code in answers (below)

An answer whose ASK is not 0x10 ("ok") raises :class:`BoardRefused`. This module is
the proof that a board type is one module plus one line in :mod:`drivers.registry`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from drivers.base import BoardBase
from drivers.board import RawStatus
from drivers.bus import LockBus
from drivers.counters import FailureKind
from drivers.errors import BadFrame, BoardRefused
from drivers.framing import ETX, NOT_A_FRAME, STX, Verdict

# Command codes (§2.2)
CMD_STATUS = 0x80  # answer DATA: 2 B hook bitmap, bit n-1 = lock n, 1 = locked
CMD_UNLOCK = 0x81  # answer: ASK only
CMD_PULSE = 0x82  # query (no DATA) or set (DATA u16 BE, 10 ms units)
CMD_VERSION = 0x8F  # answer DATA: soft, hard version
COMMANDS = range(0x80, 0x90)

# Result codes in ASK (§2.1)
ASK_REQUEST = 0x00  # what the host sends
ASK_OK = 0x10
ASK_MEANINGS = {
    0x11: "operation failed",
    0x12: "board timed out",
    0x13: "unknown command",
    0x14: "checksum error in the request",
}
ASK_CHECKSUM_ERROR = 0x14
ANSWER_ASKS = frozenset({ASK_OK, *ASK_MEANINGS})

BROADCAST = 0x10  # ADDR of a request every board answers (§2.1)
ALL_LOCKS = 0x0C  # LOCK byte addressing all 12 locks (§2.1)
HEADER_LENGTH = 8  # STX .. SUM (§2.1)
MAX_LENGTH = 48  # longest frame, DATA included (§2.1)
PULSE_UNIT_MS = 10  # 0x82 counts in 10 ms steps (§2.2)
MAX_PULSE_MS = 6000 * PULSE_UNIT_MS  # §2.2: 0-6000 units
FLASH_WRITE_S = 0.55  # quiet time after a set: "> 500 ms" (§2.2)
RELEASE_MARGIN_S = 0.1  # wait after the pulse before the read-back (§1.6.1 applies too)


def checksum(head: bytes, data: bytes) -> int:
    """Low 8 bits of the sum of STX..ETX plus every DATA byte (§2.1)."""
    return (sum(head) + sum(data)) & 0xFF


@dataclass(frozen=True)
class Cu12Frame:
    """One CU12 frame, request or answer: ``02 ADDR LOCK CMD ASK LEN 03 SUM DATA``."""

    address: int
    lock: int  # the LOCK byte: lock number - 1, 0x0C = all
    command: int
    ask: int = ASK_REQUEST
    data: bytes = b""

    def __post_init__(self) -> None:
        for name in ("address", "lock", "command", "ask"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ValueError(f"{name} must fit in one byte")
        if len(self.data) > MAX_LENGTH - HEADER_LENGTH:
            raise ValueError(f"CU12 DATA is at most {MAX_LENGTH - HEADER_LENGTH} bytes")

    @classmethod
    def status(cls, board: int) -> Cu12Frame:
        return cls(board, 0, CMD_STATUS)

    @classmethod
    def bus_status(cls) -> Cu12Frame:
        return cls(BROADCAST, 0, CMD_STATUS)

    @classmethod
    def unlock(cls, board: int, lock: int) -> Cu12Frame:
        if not 1 <= lock <= Cu12Board.LOCKS:
            raise ValueError(f"CU12 locks are 1..12, not {lock}")
        return cls(board, lock - 1, CMD_UNLOCK)

    @classmethod
    def unlock_all(cls, board: int) -> Cu12Frame:
        return cls(board, ALL_LOCKS, CMD_UNLOCK)

    @classmethod
    def version(cls, board: int) -> Cu12Frame:
        return cls(board, 0, CMD_VERSION)

    @classmethod
    def query_pulse(cls, board: int) -> Cu12Frame:
        return cls(board, 0, CMD_PULSE)

    @classmethod
    def set_pulse(cls, board: int, ms: int) -> Cu12Frame:
        if not 0 <= ms <= MAX_PULSE_MS:
            raise ValueError(f"pulse time must be within 0..{MAX_PULSE_MS} ms")
        return cls(board, 0, CMD_PULSE, data=round(ms / PULSE_UNIT_MS).to_bytes(2, "big"))

    @property
    def hooks(self) -> int:
        """Hook bits of a 0x80 answer, bit n-1 = lock n."""
        return int.from_bytes(self.data[:2], "little")

    @property
    def pulse_ms(self) -> int:
        """Pulse time of a 0x82 query answer."""
        return int.from_bytes(self.data[:2], "big") * PULSE_UNIT_MS

    def to_bytes(self) -> bytes:
        head = bytes([STX, self.address, self.lock, self.command, self.ask, len(self.data), ETX])
        return head + bytes([checksum(head, self.data)]) + self.data

    @classmethod
    def from_bytes(cls, raw: bytes) -> Cu12Frame:
        """Decode and check one frame. :raises BadFrame: length, STX/ETX or sum wrong."""
        if len(raw) < HEADER_LENGTH or len(raw) != HEADER_LENGTH + raw[5]:
            raise BadFrame(f"CU12 frame length does not match its LEN byte: {raw.hex(' ')}")
        if raw[0] != STX or raw[6] != ETX:
            raise BadFrame(f"STX/ETX misplaced in {raw.hex(' ')}")
        if checksum(raw[:7], raw[8:]) != raw[7]:
            raise BadFrame(f"checksum mismatch in {raw.hex(' ')}")
        return cls(raw[1], raw[2], raw[3], raw[4], bytes(raw[8:]))

    def check_ask(self) -> None:
        """:raises BoardRefused: when this answer's ASK is not "ok"."""
        if self.ask != ASK_OK:
            meaning = ASK_MEANINGS.get(self.ask, "unknown result code")
            raise BoardRefused(self.ask, meaning, retriable=self.ask == ASK_CHECKSUM_ERROR)


class _AnswerRule:
    """Framing of CU12 answers: length from LEN, ASK must be a result code."""

    min_length = HEADER_LENGTH
    max_length = MAX_LENGTH

    def frame_length(self, head: bytes) -> int | None:
        if len(head) < 6:
            return None
        if head[3] not in COMMANDS or head[4] not in ANSWER_ASKS:
            return NOT_A_FRAME  # an echo of our own request has ASK 0x00 and stops here
        length = HEADER_LENGTH + head[5]
        return length if length <= MAX_LENGTH else NOT_A_FRAME

    def verify(self, frame: bytes) -> Verdict:
        if frame[0] != STX or frame[6] != ETX:
            return Verdict.MALFORMED
        ok = checksum(frame[:7], frame[8:]) == frame[7]
        return Verdict.OK if ok else Verdict.BAD_CHECKSUM


ANSWER_RULE = _AnswerRule()


def _answer(
    command: int, board: int, lock: int | None = None, data_len: int = 0
) -> Callable[[bytes], Cu12Frame | None]:
    """An ``accept`` for :meth:`LockBus.request`: ``command`` answered by ``board``."""

    def accept(raw: bytes) -> Cu12Frame | None:
        frame = Cu12Frame.from_bytes(raw)
        if frame.command != command or frame.address != board:
            return None
        if lock is not None and frame.lock != lock:
            return None
        frame.check_ask()
        return frame if len(frame.data) >= data_len else None

    return accept


class Cu12Board(BoardBase):
    """One KR-CU12 on a :class:`LockBus`. Addresses 0-15, locks 1-12, no IR strips."""

    TYPE: ClassVar[str] = "cu12"
    LOCKS: ClassVar[int] = 12
    ADDRESSES: ClassVar[range] = range(0, 16)  # §2.1: ADDR 0x00-0x0F
    HAS_IR: ClassVar[bool] = False
    HAS_BUS_READ: ClassVar[bool] = True
    RELEASE_MARGIN_S: ClassVar[float] = RELEASE_MARGIN_S

    def _read_raw(self) -> RawStatus:
        frame = Cu12Frame.status(self.address).to_bytes()
        answer = self.bus.request(frame, ANSWER_RULE, _answer(CMD_STATUS, self.address, None, 2))
        return RawStatus(answer.hooks, None)

    def _pulse(self, lock: int) -> None:
        frame = Cu12Frame.unlock(self.address, lock)
        self.bus.request(
            frame.to_bytes(), ANSWER_RULE, _answer(CMD_UNLOCK, self.address, frame.lock), retries=0
        )

    def _query_pulse(self) -> int:
        frame = Cu12Frame.query_pulse(self.address).to_bytes()
        return self.bus.request(
            frame, ANSWER_RULE, _answer(CMD_PULSE, self.address, None, 2)
        ).pulse_ms

    def _set_pulse(self, ms: int) -> int:
        frame = Cu12Frame.set_pulse(self.address, ms)
        self.bus.request(
            frame.to_bytes(),
            ANSWER_RULE,
            _answer(CMD_PULSE, self.address),
            quiet_after_s=FLASH_WRITE_S,
        )
        return frame.pulse_ms  # the answer carries no data: the board took what was sent

    @classmethod
    def _read_bus_raw(
        cls, bus: LockBus, addresses: Sequence[int], failures: list[FailureKind]
    ) -> dict[int, RawStatus]:
        wanted = frozenset(addresses)

        def accept(raw: bytes) -> tuple[int, RawStatus] | None:
            frame = Cu12Frame.from_bytes(raw)
            if frame.command != CMD_STATUS or frame.address not in wanted or len(frame.data) < 2:
                return None
            frame.check_ask()
            return frame.address, RawStatus(frame.hooks, None)

        return bus.gather(
            Cu12Frame.bus_status().to_bytes(),
            ANSWER_RULE,
            accept,
            expect=len(wanted),
            reply_bytes=HEADER_LENGTH + 2,
            failures=failures,
        )
