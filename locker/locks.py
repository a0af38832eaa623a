"""What the domain needs from the door hardware; ``drivers`` implements it.

An opening is reported as a value, never as an exception: a door that did not open is a
normal event the services record and offer a way forward for.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from locker.types import CompartmentId


class DoorOutcome(StrEnum):
    """What became of one request to open a door."""

    OPENED = "opened"  # the lock was seen released after the pulse
    REFUSED = "refused"  # the board answered, but the lock still reads engaged
    NO_ANSWER = "no_answer"  # the board did not answer the read-back (nothing is known)
    UNKNOWN = "unknown"  # anything else: the caller must treat the door as possibly open


@dataclass(frozen=True)
class DoorReading:
    """One compartment as the hardware sees it.

    ``latched`` is the lock hook: True means the door is shut and the latch has caught.
    ``occupied`` comes from the IR strip, None where the board has none.
    """

    latched: bool
    occupied: bool | None = None


class Locks(Protocol):
    """The station's doors."""

    def open(self, compartment: CompartmentId) -> DoorOutcome:
        """Pulse the lock once and report whether it released. Never pulses twice blindly."""
        ...

    def read(
        self, compartments: Collection[CompartmentId] | None = None
    ) -> Mapping[CompartmentId, DoorReading]:
        """Read the given compartments (all when None).

        A compartment whose board did not answer is missing from the result.
        """
        ...


class NoDoors:
    """Locks for tools that work on the database only (``locker staff add``): every
    opening reports ``NO_ANSWER`` and every read sees nothing."""

    def open(self, compartment: CompartmentId) -> DoorOutcome:
        return DoorOutcome.NO_ANSWER

    def read(
        self, compartments: Collection[CompartmentId] | None = None
    ) -> Mapping[CompartmentId, DoorReading]:
        return {}
