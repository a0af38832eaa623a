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

from locker.audit import record
from locker.codes import new_pin, normalize_pin
from locker.errors import CodeInvalid, NoFreeCompartment
from locker.people import attempts
from locker.services import deposit, intake
from locker.services.doors import UNCERTAIN, DoorResult
from locker.station import Station
from locker.store.tables import ReturnCode
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


def _give_back(station: Station, code_id: int) -> None:
    """No compartment opened for the return: the customer may use the code again (its
    parcel row is kept for that next try)."""
    with station.db.write() as session:
        row = session.get(ReturnCode, code_id)
        if row is not None:
            row.used_at = None
            session.add(row)


def drop_off(station: Station, *, code: str, terminal: str) -> DropOff:
    """A customer's return code: a compartment is held for the parcel and opened. A door
    that does not open is marked faulty and the next compartment is tried.

    The code is checked and spent in one transaction, so two taps (or two kiosks) cannot
    both use it; it is given back when no compartment could be held or opened.
    """
    now = station.now()
    actor = f"customer@{terminal}"
    with station.db.write() as session:
        attempts.check(session, station.policy.attempts, terminal, now, code=code)
        row = session.exec(
            select(ReturnCode).where(ReturnCode.pin_hash == _hash(station, code))
        ).first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            attempts.failed(session, terminal, now)
            record(session, actor=actor, action="return_code.rejected", now=now)
            code_id = None
        else:
            attempts.succeeded(session, terminal)
            row.used_at = now
            if row.parcel_id is None:  # the first try makes the parcel; a retry reuses it
                parcel = intake.new_parcel(
                    session,
                    intake.ParcelInput(
                        carrier=row.carrier,
                        tracking_number=row.reference,
                        recipient_name=f"Return {row.reference}",
                        size=row.size,
                        kind=ParcelKind.RETURN,
                    ),
                    actor=actor,
                    now=now,
                )
                row.parcel_id = parcel.id
            session.add(row)
            code_id, parcel_id = row.id, row.parcel_id
    if code_id is None:
        raise CodeInvalid()
    assert parcel_id is not None
    tried: list[DoorResult] = []
    for _ in range(DOORS_TO_TRY):  # a door that does not open is marked faulty: next one
        try:
            deposit.reserve(station, actor=actor, parcel_id=parcel_id)
        except NoFreeCompartment:
            if not tried:
                _give_back(station, code_id)
                raise
            break
        result = deposit.deposit(station, actor=actor, parcel_id=parcel_id)
        tried.append(result)
        if result.opened or result.outcome in UNCERTAIN:
            break  # open, or maybe open: the compartment stays held (and flagged for staff)
    last = tried[-1]
    if not (last.opened or last.outcome in UNCERTAIN):
        _give_back(station, code_id)  # deposit() released the compartment it could not open
    return DropOff(parcel_id, tuple(tried))
