"""An in-memory :class:`~locker.locks.Locks` for domain tests and for trying the services.

Each door is latched or not, holds an item or not, and can be jammed (the latch will not
release) or muted (its board does not answer). The "hands" methods play the people at
the station: close a door, put a parcel in, take it out. It records every pulse, so a
test can prove that a door was never opened without a reason.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from locker.locks import DoorOutcome, DoorReading
from locker.types import CompartmentId


@dataclass
class _Door:
    latched: bool = True
    item: bool = False
    jammed: bool = False
    muted: bool = False
    pulses: int = 0


class InMemoryLocks:
    """Doors in a dict. Thread-safe; ``ir_sensors=False`` reports occupancy as unknown."""

    def __init__(self, compartments: Iterable[int], *, ir_sensors: bool = True) -> None:
        self._doors = {CompartmentId(c): _Door() for c in compartments}
        self._ir = ir_sensors
        self._lock = threading.Lock()

    # --- Locks -------------------------------------------------------------------------
    def open(self, compartment: CompartmentId) -> DoorOutcome:
        with self._lock:
            door = self._doors[compartment]
            door.pulses += 1
            if door.muted:
                return DoorOutcome.NO_ANSWER
            if door.jammed:
                return DoorOutcome.REFUSED
            door.latched = False
            return DoorOutcome.OPENED

    def read(
        self, compartments: Collection[CompartmentId] | None = None
    ) -> Mapping[CompartmentId, DoorReading]:
        with self._lock:
            wanted = self._doors.keys() if compartments is None else compartments
            return {
                cid: DoorReading(
                    latched=self._doors[cid].latched,
                    occupied=self._doors[cid].item if self._ir else None,
                )
                for cid in wanted
                if not self._doors[cid].muted
            }

    # --- hands and faults --------------------------------------------------------------
    def close(self, compartment: int) -> None:
        with self._lock:
            self._doors[CompartmentId(compartment)].latched = True

    def put(self, compartment: int) -> None:
        with self._lock:
            self._doors[CompartmentId(compartment)].item = True

    def take(self, compartment: int) -> None:
        with self._lock:
            self._doors[CompartmentId(compartment)].item = False

    def jam(self, compartment: int, jammed: bool = True) -> None:
        with self._lock:
            self._doors[CompartmentId(compartment)].jammed = jammed

    def mute(self, compartment: int, muted: bool = True) -> None:
        with self._lock:
            self._doors[CompartmentId(compartment)].muted = muted

    def pulses(self, compartment: int) -> int:
        with self._lock:
            return self._doors[CompartmentId(compartment)].pulses

    def holds(self, compartment: int) -> bool:
        with self._lock:
            return self._doors[CompartmentId(compartment)].item

    def is_latched(self, compartment: int) -> bool:
        with self._lock:
            return self._doors[CompartmentId(compartment)].latched
