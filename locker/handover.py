"""Codes waiting for their depositor.

A parcel is stored when its door is seen closed, often by the door watcher rather than
by the courier's own request. Its code exists in clear text only at that moment, so the
watcher leaves it here; the courier's next "I closed the door" request takes it, once.
It lives in memory only: after a restart or ``ttl`` it is gone, and staff reissue a code.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from locker.services.intake import Stored

MAX_WAITING = 1000


class CodeHandover:
    def __init__(
        self, ttl_s: float, *, clock: Callable[[], float] = time.monotonic, limit: int = MAX_WAITING
    ) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._limit = limit
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._items: OrderedDict[int, tuple[float, Stored]] = OrderedDict()

    def put(self, stored: Stored) -> None:
        with self._lock:
            self._items[stored.parcel_id] = (self._clock() + self._ttl_s, stored)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)
            self._arrived.notify_all()

    def take(self, parcel_id: int, *, wait_s: float = 0.0) -> Stored | None:
        """The waiting code of a parcel, removed as it is handed over; waits up to
        ``wait_s`` for one that is about to be left here."""
        with self._lock:
            self._arrived.wait_for(lambda: parcel_id in self._items, timeout=wait_s)
            item = self._items.pop(parcel_id, None)
        if item is None or item[0] < self._clock():
            return None
        return item[1]

    def waiting(self, parcel_id: int) -> bool:
        """Whether a code waits for this parcel's depositor (without handing it over)."""
        with self._lock:
            item = self._items.get(parcel_id)
        return item is not None and item[0] >= self._clock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
