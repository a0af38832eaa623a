"""Fault injection: what can go wrong on a real bus, switchable while the simulator runs.

Every fault acts on real behaviour or real bytes, never on a flag the driver could read:

============  ===============================================================================
Fault         Effect
============  ===============================================================================
NO_ANSWER     the board acts on the frame but its answer never reaches the line
LATE_ANSWER   the answer starts ``delay_s`` later than usual
CORRUPT_BYTE  one byte of the answer (index ``n``, default a data byte) is inverted, so the
              host's checksum check fails
TRUNCATED     only the first ``n`` bytes of the answer are sent (default: half of it)
STUCK_LATCH   at the end of a pulse the latch does not release (the hook stays engaged)
LYING_SENSOR  the hook bit of the lock is reported inverted
GONE          the board hears nothing and answers nothing, not even broadcasts
EXCEPTION     (Modbus) the device answers a Modbus exception (code ``n``, default 4, device
              failure) instead of acting
============  ===============================================================================

Scope: ``board=None`` means every board. ``lock=None`` means the whole board; an injection
with a lock only touches what concerns that lock (its latch, its hook bit, or a frame addressed
to that lock, such as a CU12 unlock of it; CU16 answers are board-wide and so only match
lock-less injections).

Duration: ``count=None`` lasts until cleared; ``count=k`` wears off after ``k`` uses, a use
being one answer (NO_ANSWER, LATE_ANSWER, CORRUPT_BYTE, TRUNCATED; LYING_SENSOR: one answer that
carries hook bits), one pulse end (STUCK_LATCH) or one frame ignored (GONE).

:class:`FaultSet` is thread-safe: tests inject from their own thread while the server runs.
"""

from __future__ import annotations

import enum
import logging
import threading
from dataclasses import dataclass, replace

_LOGGER = logging.getLogger(__name__)


class Fault(enum.Enum):
    """The kinds of fault (see the module docstring)."""

    NO_ANSWER = "no_answer"
    LATE_ANSWER = "late_answer"
    CORRUPT_BYTE = "corrupt_byte"
    TRUNCATED = "truncated"
    STUCK_LATCH = "stuck_latch"
    LYING_SENSOR = "lying_sensor"
    GONE = "gone"
    EXCEPTION = "exception"


@dataclass(frozen=True)
class Injection:
    """One active fault."""

    fault: Fault
    board: int | None = None
    lock: int | None = None
    remaining: int | None = None  # None = until cleared
    delay_s: float = 0.0  # LATE_ANSWER
    n: int | None = None  # CORRUPT_BYTE: byte index; TRUNCATED: bytes kept

    def matches(self, board: int, lock: int | None) -> bool:
        if self.board is not None and self.board != board:
            return False
        return self.lock is None or self.lock == lock


class FaultSet:
    """The active injections of one bus."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Injection] = []

    def inject(
        self,
        fault: Fault,
        *,
        board: int | None = None,
        lock: int | None = None,
        count: int | None = None,
        delay_s: float = 0.0,
        n: int | None = None,
    ) -> None:
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or None: until cleared)")
        if delay_s < 0 or (n is not None and n < 0):
            raise ValueError("delay_s and n must not be negative")
        item = Injection(Fault(fault), board, lock, count, delay_s, n)
        with self._lock:
            self._items.append(item)
        _LOGGER.info("fault injected: %s", item)

    def clear(self, *, board: int | None = None, lock: int | None = None) -> None:
        """Remove injections on ``board`` (None: any) and ``lock`` (None: any)."""
        with self._lock:
            self._items = [
                item
                for item in self._items
                if not (
                    (board is None or item.board == board) and (lock is None or item.lock == lock)
                )
            ]

    def active(self) -> list[Injection]:
        with self._lock:
            return list(self._items)

    def take(self, fault: Fault, board: int, lock: int | None = None) -> Injection | None:
        """The first matching injection of ``fault``, one use consumed; None if there is none."""
        with self._lock:
            return self._take(fault, board, lock)

    def _take(self, fault: Fault, board: int, lock: int | None) -> Injection | None:
        for index, item in enumerate(self._items):
            if item.fault is fault and item.matches(board, lock):
                if item.remaining is None:
                    return item
                if item.remaining <= 1:
                    del self._items[index]
                else:
                    self._items[index] = replace(item, remaining=item.remaining - 1)
                return item
        return None

    # -- sim.model.PhysicalFaults
    def latch_stuck(self, board: int, lock: int) -> bool:
        return self.take(Fault.STUCK_LATCH, board, lock) is not None

    def latch_would_stick(self, board: int, lock: int) -> bool:
        with self._lock:
            return any(
                item.fault is Fault.STUCK_LATCH and item.matches(board, lock)
                for item in self._items
            )

    def lying_mask(self, board: int, n_locks: int) -> int:
        mask = 0
        with self._lock:
            lying = [
                item
                for item in self._items
                if item.fault is Fault.LYING_SENSOR and (item.board in (None, board))
            ]
            for item in lying:
                self._consume(item)
                mask |= (1 << n_locks) - 1 if item.lock is None else 1 << (item.lock - 1)
        return mask & ((1 << n_locks) - 1)

    def _consume(self, item: Injection) -> None:
        if item.remaining is None:
            return
        index = self._items.index(item)
        if item.remaining <= 1:
            del self._items[index]
        else:
            self._items[index] = replace(item, remaining=item.remaining - 1)

    # -- answers
    def shape_answer(
        self, board: int, lock: int | None, data: bytes, corrupt_at: int
    ) -> tuple[bytes | None, float]:
        """Apply the answer faults to ``data``: (bytes to send or None, extra delay in s)."""
        with self._lock:
            if self._take(Fault.NO_ANSWER, board, lock) is not None:
                _LOGGER.debug("board %d: answer suppressed (NO_ANSWER)", board)
                return None, 0.0
            late = self._take(Fault.LATE_ANSWER, board, lock)
            corrupt = self._take(Fault.CORRUPT_BYTE, board, lock)
            truncated = self._take(Fault.TRUNCATED, board, lock)
        out = bytearray(data)
        if corrupt is not None and out:
            index = (corrupt.n if corrupt.n is not None else corrupt_at) % len(out)
            out[index] ^= 0xFF
            _LOGGER.debug("board %d: answer byte %d inverted (CORRUPT_BYTE)", board, index)
        if truncated is not None:
            keep = truncated.n if truncated.n is not None else len(out) // 2
            del out[keep:]
            _LOGGER.debug("board %d: answer cut to %d byte(s) (TRUNCATED)", board, keep)
        return bytes(out), (late.delay_s if late is not None else 0.0)
