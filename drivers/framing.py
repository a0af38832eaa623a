"""Cutting a byte stream from a lock board into frames: pure, no I/O, no clock.

Why this is harder than it looks (lock-protocol.md §8, "Framing"): the Kerong protocols
do not escape bytes, so STX (0x02) and ETX (0x03) also occur inside data and checksums,
and the stream may carry

- garbage before a frame (line noise, stale bytes, the echo of our own request),
- a frame cut short (the board was reset, a byte was lost) followed by a good frame,
- a frame with one corrupted byte.

So a frame is found by its **known length**: at an STX, the protocol's :class:`FrameRule`
says how long a frame starting there must be (from its reply code, or a length byte);
once that many bytes are in, it checks STX, ETX at its place and the checksum. On any
mismatch the decoder drops **one** byte and hunts for the next STX: a real frame hiding
inside a broken one is found that way. It never strips "terminator" bytes, and it never
passes on a frame that failed a check.

:func:`scan` is one step (bytes in, ``(consumed, frame | None)`` out); :class:`StreamDecoder`
keeps the bounded buffer between reads and counts what it dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

STX = 0x02  # start of every Kerong frame (lock-protocol.md §1.3, §2.1)
ETX = 0x03  # end-of-text marker at a fixed offset (§1.3, §2.1)

NOT_A_FRAME = 0  # FrameRule.frame_length: no valid frame can start at this STX
KERONG_STARTS = frozenset({STX})  # a rule without ``start_bytes`` frames on STX


def start_bytes(rule: FrameRule) -> frozenset[int]:
    """The bytes a frame of ``rule`` may start with: its ``start_bytes`` if it has them
    (the 8A/80 board starts with 0x8A or 0x80, a Modbus answer with the board's address),
    else STX."""
    starts: frozenset[int] = getattr(rule, "start_bytes", KERONG_STARTS)
    return starts


class Verdict(Enum):
    """What :meth:`FrameRule.verify` found in a candidate frame of the right length."""

    OK = "ok"
    MALFORMED = "malformed"  # STX/ETX/length wrong: not a frame of this protocol
    BAD_CHECKSUM = "bad_checksum"  # looks like a frame, but its checksum does not match


class FrameRule(Protocol):
    """How one protocol frames the replies a host receives."""

    @property
    def min_length(self) -> int:
        """Length of the shortest frame, in bytes."""
        ...

    @property
    def max_length(self) -> int:
        """Length of the longest frame, in bytes."""
        ...

    def frame_length(self, head: bytes) -> int | None:
        """Length of the frame starting at ``head[0]`` (an STX, or one of ``start_bytes``).

        :returns: the length in bytes; ``None`` when more bytes are needed to tell;
            :data:`NOT_A_FRAME` when no frame of this protocol can start here.
        """
        ...

    def verify(self, frame: bytes) -> Verdict:
        """Check STX, ETX and checksum of a candidate of the length ``frame_length`` gave."""
        ...


class Drop(Enum):
    """Why :func:`scan` consumed bytes without producing a frame."""

    GARBAGE = "garbage"  # bytes before the next STX
    MALFORMED = "malformed"  # an STX that starts no valid frame
    BAD_CHECKSUM = "bad_checksum"  # an STX whose frame failed its checksum


@dataclass(frozen=True)
class Step:
    """One result of :func:`scan`. ``consumed == 0`` means "need more bytes"."""

    consumed: int
    frame: bytes | None = None
    drop: Drop | None = None


def scan(buffer: bytes, rule: FrameRule) -> Step:
    """Look at the start of ``buffer`` and say what to do with it.

    Returns a frame (and its length as ``consumed``), or bytes to drop and why, or
    ``consumed == 0`` when the buffer holds only the beginning of a possible frame.
    """
    if not buffer:
        return Step(0)
    starts = start_bytes(rule)
    if buffer[0] not in starts:
        start = next((i for i, b in enumerate(buffer) if b in starts), -1)
        return Step(len(buffer) if start < 0 else start, drop=Drop.GARBAGE)
    length = rule.frame_length(buffer)
    if length is None:
        return Step(0)
    if length == NOT_A_FRAME or not rule.min_length <= length <= rule.max_length:
        return Step(1, drop=Drop.MALFORMED)
    if len(buffer) < length:
        return Step(0)
    candidate = bytes(buffer[:length])
    verdict = rule.verify(candidate)
    if verdict is Verdict.OK:
        return Step(length, frame=candidate)
    return Step(1, drop=Drop.BAD_CHECKSUM if verdict is Verdict.BAD_CHECKSUM else Drop.MALFORMED)


@dataclass
class DecoderStats:
    """What a :class:`StreamDecoder` has seen since it was made or reset."""

    frames: int = 0  # good frames passed on
    dropped_bytes: int = 0  # bytes thrown away while hunting for a frame
    resyncs: int = 0  # times the decoder lost sync and had to hunt
    checksum_errors: int = 0  # candidates of the right shape whose checksum failed
    malformed: int = 0  # STX bytes that started no valid frame (ETX misplaced, unknown code)
    overflows: int = 0  # bytes dropped because the buffer was full


class StreamDecoder:
    """A bounded buffer that turns chunks of bytes into checked frames.

    :param rule: the protocol's framing rule.
    :param max_buffer: bytes kept between calls at most; never less than the longest
        frame. The oldest bytes go first when it is exceeded (counted as overflows).
    """

    def __init__(self, rule: FrameRule, max_buffer: int = 256) -> None:
        self.rule = rule
        self.max_buffer = max(max_buffer, rule.max_length)
        self.stats = DecoderStats()
        self._buffer = bytearray()
        self._hunting = False

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the complete, checked frames found, in order."""
        frames: list[bytes] = []
        for start in range(0, len(data), self.max_buffer):
            self._buffer.extend(data[start : start + self.max_buffer])
            frames.extend(self._drain())
            excess = len(self._buffer) - self.max_buffer
            if excess > 0:  # only a rule that promises too long frames gets here
                del self._buffer[:excess]
                self.stats.overflows += excess
                self.stats.dropped_bytes += excess
        return frames

    def needed(self) -> int:
        """How many more bytes must arrive before another frame can be complete (>= 1)."""
        if not self._buffer:
            return self.rule.min_length
        if self._buffer[0] in start_bytes(self.rule):
            length = self.rule.frame_length(bytes(self._buffer))
            if length:
                return max(1, length - len(self._buffer))
        return max(1, self.rule.min_length - len(self._buffer))

    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buffer)

    def reset(self) -> None:
        """Forget buffered bytes (counted as dropped); keep the statistics."""
        if self._buffer:
            self.stats.dropped_bytes += len(self._buffer)
        self._buffer.clear()
        self._hunting = False

    def _drain(self) -> list[bytes]:
        frames: list[bytes] = []
        while True:
            step = scan(bytes(self._buffer), self.rule)
            if step.consumed == 0:
                return frames
            del self._buffer[: step.consumed]
            if step.frame is not None:
                frames.append(step.frame)
                self.stats.frames += 1
                self._hunting = False
                continue
            if not self._hunting:
                self.stats.resyncs += 1
                self._hunting = True
            self.stats.dropped_bytes += step.consumed
            if step.drop is Drop.BAD_CHECKSUM:
                self.stats.checksum_errors += 1
            elif step.drop is Drop.MALFORMED:
                self.stats.malformed += 1
