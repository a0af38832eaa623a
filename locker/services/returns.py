"""Returns: the shop or a carrier gives a customer a return code; at the kiosk the code
opens an empty compartment of the right size, the customer puts the parcel in and closes
the door, and the carrier's courier takes it away like an expired parcel.

A return code is a PIN of its own kind (stored as a keyed hash, single use, with an end)
and counts against the kiosk's attempt limits like a pickup code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from locker import attempts
from locker.audit import record
from locker.codes import new_pin, normalize_pin
from locker.errors import CodeInvalid, NoFreeCompartment
from locker.services import deposit
from locker.services.doors import UNCERTAIN, DoorResult
from locker.station import Station
from locker.tables import ReturnCode
from locker.types import ParcelKind, SizeClass

# A door that does not open is marked faulty and another compartment is tried, this often.
DOORS_TO_TRY = 3


@dataclass(frozen=True)
class IssuedReturnCode:
    pin: str  # shown once, to give to the customer
    expires_at: datetime


@dataclass(frozen=True)
class DropOff:
    parcel_id: int
    doors: tuple[DoorResult, ...]  # the last one opened, unless none did

    @property
    def opened(self) -> DoorResult | None:
        last = self.doors[-1] if self.doors else None
        return last if last is not None and last.opened else None


def _hash(station: Station, pin: str) -> str:
    return station.hasher.secret("return", normalize_pin(pin))


def issue_return_code(
    station: Station,
    *,
    carrier: str,
    reference: str,
    size: SizeClass,
    actor: str,
    valid_for: timedelta,
) -> IssuedReturnCode:
    now = station.now()
    with station.db.write() as session:
        while True:
            pin = new_pin(station.policy.pin_digits)
            taken = session.exec(
                select(ReturnCode.id).where(ReturnCode.pin_hash == _hash(station, pin))
            ).first()
            if taken is None:
                break
        expires_at = now + valid_for
        session.add(
            ReturnCode(
                pin_hash=_hash(station, pin),
                carrier=carrier,
                reference=reference,
                size=size,
                created_by=actor,
                created_at=now,
                expires_at=expires_at,
            )
        )
        record(session, actor=actor, action="return_code.issued", now=now, detail=reference)
    return IssuedReturnCode(pin, expires_at)


def drop_off(station: Station, *, code: str, terminal: str) -> DropOff:
    """A customer's return code: a compartment is held for the parcel and opened. A door
    that does not open is marked faulty and the next compartment is tried."""
    now = station.now()
    actor = f"customer@{terminal}"
    with station.db.write() as session:
        attempts.check(session, station.policy.attempts, terminal, now)
        row = session.exec(
            select(ReturnCode).where(ReturnCode.pin_hash == _hash(station, code))
        ).first()
        valid = row is not None and row.used_at is None and row.expires_at > now
        if not valid:
            attempts.failed(session, terminal, now)
            record(session, actor=actor, action="return_code.rejected", now=now)
        else:
            assert row is not None
            attempts.succeeded(session, terminal)
            ticket = (row.id, row.carrier, row.reference, row.size)
    if not valid:
        raise CodeInvalid()
    code_id, carrier, reference, size = ticket
    held = deposit.reserve(
        station,
        actor=actor,
        parcel=deposit.ParcelInput(
            carrier=carrier,
            tracking_number=reference,
            recipient_name=f"Return {reference}",
            size=size,
            kind=ParcelKind.RETURN,
        ),
    )
    with station.db.write() as session:  # the code is spent once a compartment is held
        spent = session.get(ReturnCode, code_id)
        assert spent is not None
        spent.used_at = now
        spent.parcel_id = held.parcel_id
        session.add(spent)
    tried: list[DoorResult] = []
    for _ in range(DOORS_TO_TRY):
        result = deposit.deposit(station, actor=actor, parcel_id=held.parcel_id)
        tried.append(result)
        if result.opened or result.outcome in UNCERTAIN:
            break  # open, or maybe open: the compartment stays held (and flagged for staff)
        try:  # helpful failure: that door is marked faulty; try the next compartment
            deposit.reserve(station, actor=actor, parcel_id=held.parcel_id)
        except NoFreeCompartment:
            break
    return DropOff(held.parcel_id, tuple(tried))
