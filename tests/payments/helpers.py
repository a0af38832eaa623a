"""Parcels with an amount due, stored through the services, and the money read back."""

from __future__ import annotations

from sqlmodel import select

from locker.payments.records import Payment
from locker.services import deposit
from locker.services.intake import ParcelInput, Stored
from locker.station import Station
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import SizeClass

COURIER = "courier:shop"


def store_due(
    station: Station, locks: InMemoryLocks, cents: int, *, tracking: str = "ORDER-1"
) -> Stored:
    data = ParcelInput(
        carrier="Shop",
        tracking_number=tracking,
        recipient_name="Anna Berg",
        recipient_email=f"{tracking.lower()}@example.org",
        size=SizeClass.M,
        amount_due_cents=cents,
    )
    reservation = deposit.reserve(station, actor=COURIER, parcel=data)
    assert deposit.deposit(station, actor=COURIER, parcel_id=reservation.parcel_id).opened
    locks.put(reservation.compartment_id)
    locks.close(reservation.compartment_id)
    return deposit.confirm_stored(station, parcel_id=reservation.parcel_id)


def payments(station: Station, parcel_id: int) -> list[Payment]:
    with station.db.read() as session:
        return list(session.exec(select(Payment).where(Payment.parcel_id == parcel_id)).all())
