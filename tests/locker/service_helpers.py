"""What the service tests share: a parcel's input, a parcel stored through the services, and
the states and audit trail they read back."""

from __future__ import annotations

import itertools

from locker.audit import entries
from locker.services import deposit
from locker.services.intake import ParcelInput, Stored
from locker.station import Station, compartment_state
from locker.store.tables import Parcel
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import CompartmentState, ParcelState, SizeClass

COURIER = "courier:dhl-7"
_NUMBERS = itertools.count(1)  # one tracking number is one live parcel (migration 0016)


def parcel(size: SizeClass = SizeClass.M, **extra: object) -> ParcelInput:
    extra.setdefault("tracking_number", f"JJD{next(_NUMBERS):04d}")
    return ParcelInput(
        carrier="DHL",
        recipient_name="Anna Berg",
        size=size,
        **extra,  # type: ignore[arg-type]
    )


def store(station: Station, locks: InMemoryLocks, size: SizeClass = SizeClass.M) -> Stored:
    reservation = deposit.reserve(station, actor=COURIER, parcel=parcel(size))
    assert deposit.deposit(station, actor=COURIER, parcel_id=reservation.parcel_id).opened
    locks.put(reservation.compartment_id)
    locks.close(reservation.compartment_id)
    return deposit.confirm_stored(station, parcel_id=reservation.parcel_id)


def state_of(station: Station, parcel_id: int) -> ParcelState:
    with station.db.read() as session:
        row = session.get(Parcel, parcel_id)
        assert row is not None
        return row.state


def comp_state(station: Station, cid: int) -> CompartmentState:
    with station.db.read() as session:
        return compartment_state(session, cid)


def actions(station: Station, parcel_id: int) -> list[str]:
    with station.db.read() as session:
        return [e.action for e in entries(session, parcel_id=parcel_id)]
