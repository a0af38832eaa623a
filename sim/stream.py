"""A bounded, resynchronising stream decoder shared by the simulator's two codecs.

A codec supplies one pure function, ``scan(buffer) -> Scan``, which looks at the start of the
buffer only and says one of three things:

* ``Scan(0, None, False)``: the buffer holds the beginning of a frame; wait for more bytes;
* ``Scan(n, frame, False)``: the first ``n`` bytes are ``frame``;
* ``Scan(n, None, bad)``: drop ``n`` bytes; ``bad`` is true when they looked like a frame (right
  start byte, known command, full length) that failed its ETX or checksum check, false when they
  were plain garbage before the next start byte;
* ``Scan(n, report, True, span)``: a bad frame the codec wants reported anyway (CU12 answers a
  checksum error); ``span`` is its length, ``n`` what to drop (usually just the start byte).

:class:`StreamDecoder` keeps the buffer, calls ``scan`` until it needs more bytes, counts what it
dropped and never holds more than ``max_buffer`` bytes. It knows nothing about the protocol.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")

# Larger than any frame of either protocol (CU12 maximum is 48 B, lock-protocol.md section 2.1).
DEFAULT_MAX_BUFFER_BYTES = 256


class Scan(NamedTuple, Generic[T]):
    """What a codec's ``scan`` found at the start of a buffer."""

    consumed: int
    frame: T | None
    bad: bool
    span: int = 0  # length of the reported frame when it differs from ``consumed``


@dataclass(frozen=True)
class Decoded(Generic[T]):
    """A frame taken from the stream, with its raw bytes and its end position in the stream."""

    frame: T
    raw: bytes
    end: int  # stream offset just past the frame's last byte (bytes fed before it + its length)


class StreamDecoder(Generic[T]):
    """Feed bytes in any chunking; get whole frames out, garbage and bad frames dropped."""

    def __init__(
        self,
        scan: Callable[[bytes], Scan[T]],
        max_buffer: int = DEFAULT_MAX_BUFFER_BYTES,
    ) -> None:
        self._scan = scan
        self._max_buffer = max_buffer
        self._buffer = bytearray()
        self._position = 0  # stream offset of self._buffer[0]
        self.garbage_bytes = 0
        self.bad_frames = 0

    @property
    def buffered(self) -> int:
        """Bytes held back as the possible start of a frame."""
        return len(self._buffer)

    @property
    def position(self) -> int:
        """Total bytes fed so far."""
        return self._position + len(self._buffer)

    def feed(self, data: bytes) -> list[Decoded[T]]:
        """Add ``data`` and return every frame completed by it, in stream order."""
        self._buffer += data
        out: list[Decoded[T]] = []
        while self._buffer:
            consumed, frame, bad, span = self._scan(bytes(self._buffer))
            if consumed == 0:
                break
            raw = bytes(self._buffer[: max(consumed, span)])
            end = self._position + len(raw)
            del self._buffer[:consumed]
            self._position += consumed
            if bad:
                self.bad_frames += 1
                _LOGGER.debug("bad frame starting %s", raw.hex(" "))
            if frame is not None:
                out.append(Decoded(frame, raw, end))
            elif not bad:
                self.garbage_bytes += consumed
                _LOGGER.debug("dropped %d garbage byte(s): %s", consumed, raw.hex(" "))
        overflow = len(self._buffer) - self._max_buffer
        if overflow > 0:
            del self._buffer[:overflow]
            self._position += overflow
            self.garbage_bytes += overflow
        return out
