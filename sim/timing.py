"""The timing model: how long bytes take on the wire, and how the board paces its answers.

A pty or a socket delivers the host's write at once, so the wire is modelled here::

    host write  |<- request: len * BYTE_TIME ->|<- processing ->|<- reply: len * BYTE_TIME ->|
    (read at t0)                         t_rx = last byte   t_act = board acts, reply starts

* A chunk read at time ``now`` starts on the wire at ``max(now, line free)``; byte ``j`` of it
  has fully arrived at ``start + (j + 1) * byte_time``. A frame counts as received at the time
  of its last byte (:meth:`Wire.arrival`), and that time is what ``SimBus.frames_received`` keeps.
* The board acts ``processing_s`` after that and starts its reply then; each reply byte is
  written to the host no earlier than the moment its stop bit would have left the board
  (:meth:`Pacer.send`), so a host can never receive a reply faster than a real line delivers it.
  Broadcast answers follow one another, each ``processing_s`` after the previous one ended.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

BITS_PER_BYTE = 10  # 8N1: start bit, 8 data bits, stop bit (sections 1.1, 1.11 and 8)
DEFAULT_BAUD = 19200  # factory default line rate, sections 1.1 and 2
DEFAULT_PROCESSING_S = 0.002  # board reaction time: not in the spec (open question Q1), assumed
WRITE_CHUNK_S = 0.002  # reply bytes are written in chunks of about this much wire time
_CHUNK_HISTORY = 64  # received chunks remembered to time frames that span several reads


def byte_time_s(baud: int) -> float:
    """Seconds one byte occupies the line (10 bit times)."""
    return BITS_PER_BYTE / baud


def wire_time_s(n_bytes: int, baud: int) -> float:
    """Seconds ``n_bytes`` occupy the line."""
    return n_bytes * byte_time_s(baud)


class Wire:
    """The half-duplex line of one connection: when bytes land, when the line is free."""

    def __init__(self) -> None:
        self.free_at = float("-inf")
        self._chunks: deque[tuple[int, float, float]] = deque(maxlen=_CHUNK_HISTORY)

    def received(self, position: int, n_bytes: int, now: float, byte_s: float) -> None:
        """``n_bytes`` read at ``now``; ``position`` = stream offset of their first byte."""
        start = max(now, self.free_at)
        self._chunks.append((position, start, byte_s))
        self.free_at = start + n_bytes * byte_s

    def arrival(self, end: int) -> float:
        """Modelled time the byte just before stream offset ``end`` finished arriving."""
        for position, start, byte_s in reversed(self._chunks):
            if position < end:
                return start + (end - position) * byte_s
        raise ValueError(f"stream offset {end} precedes the remembered chunks")

    def reserve(self, n_bytes: int, earliest: float, byte_s: float) -> float:
        """Book the line for an answer of ``n_bytes``; return its start time."""
        start = max(earliest, self.free_at)
        self.free_at = start + n_bytes * byte_s
        return start


class Pacer:
    """Sleeps on a clock (interruptibly) and writes bytes at the modelled wire rate."""

    def __init__(
        self,
        write: Callable[[bytes], None],
        stop: threading.Event,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write = write
        self._stop = stop
        self._clock = clock

    def sleep_until(self, deadline: float) -> bool:
        """Wait until ``deadline``; False if asked to stop first."""
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                return not self._stop.is_set()
            if self._stop.wait(remaining):
                return False

    def send(self, data: bytes, start: float, byte_s: float) -> bool:
        """Write ``data`` as if it left the board from ``start`` on; False if stopped."""
        per_chunk = max(1, int(WRITE_CHUNK_S / byte_s))
        for first in range(0, len(data), per_chunk):
            chunk = data[first : first + per_chunk]
            if not self.sleep_until(start + (first + len(chunk)) * byte_s):
                return False
            self._write(chunk)
        return True
