"""What the station state machine (:mod:`tests.stateful_station`) stands on: the rig that
supplies the doors and the hands, and its model of each parcel and code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from locker.layout import Layout
from locker.locks import Locks
from locker.types import ColdKind, ParcelState


class Hands(Protocol):
    def close(self, compartment: int) -> None: ...
    def put(self, compartment: int) -> None: ...
    def take(self, compartment: int) -> None: ...
    def jam(self, compartment: int, jammed: bool = True) -> None: ...
    def pulses(self, compartment: int) -> int: ...
    def holds(self, compartment: int) -> bool: ...


@dataclass
class Rig:
    layout: Layout
    locks: Locks
    hands: Hands
    pulses_when_jammed: int = 1  # a driver may pulse once more after a fresh read
    close: Callable[[], None] = lambda: None


@dataclass
class ModelParcel:
    state: ParcelState
    compartment: int | None
    reserved_until: datetime | None
    door_opened: bool = False
    pin: str = ""
    qr: str = ""
    deadline: datetime | None = None
    recipient: str | None = None
    beside: int | None = None  # lies beside this (first) parcel, in its compartment
    cold: ColdKind | None = None  # chilled or frozen goods
    due: int = 0  # cents to pay at pick-up
    paid: bool = False  # its money is taken (the station may not have heard yet)
    waived: bool = False  # staff let it go: paid, with no money
    owed: bool = False  # a refund failed: staff hand the money back
    actions: list[str] = field(default_factory=lambda: ["parcel.announced", "parcel.reserved"])
    created: datetime | None = None  # announced then (an announcement lapses after a while)


@dataclass
class ModelCode:
    """A code the machine was given, and the parcels it opens."""

    pin: str
    qr: str
    parcels: frozenset[int]
