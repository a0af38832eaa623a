"""What a courier or a carrier gives for a parcel (:class:`ParcelInput`), completed from the
directory, and the parcel row it becomes; what a reservation and a stored parcel are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, select

from locker.assignment import ParcelNeeds
from locker.audit import record
from locker.codes import PickupCode
from locker.errors import (
    InvalidTransition,
    NotFound,
    TrackingNumberLive,
)
from locker.payments import amounts
from locker.station import (
    Station,
)
from locker.store.tables import LIVE_PARCEL_STATES, Parcel, Recipient
from locker.types import (
    ColdKind,
    ParcelKind,
    ParcelState,
    SizeClass,
)


@dataclass(frozen=True)
class ParcelInput:
    carrier: str
    tracking_number: str
    recipient_name: str
    recipient_phone: str | None = None
    recipient_email: str | None = None
    size: SizeClass | None = None
    dimensions_mm: tuple[int, int, int] | None = None
    needs_accessible: bool = False
    cold: ColdKind | None = None  # chilled or frozen: only a compartment of that kind
    kind: ParcelKind = ParcelKind.DELIVERY
    recipient_language: str = "en"
    # The directory (see with_recipient): the person chosen, or nobody found.
    recipient_id: int | None = None
    recipient_unknown: bool = False
    notify_by: str | None = None  # copied from the person; None: typed by hand
    amount_due_cents: int = 0  # pay at pick-up (locker.payments.amounts checks it)
    currency: str | None = None  # None: the station's (Policy.currency)

    def needs(self) -> ParcelNeeds:
        return ParcelNeeds(
            size=self.size,
            dimensions_mm=self.dimensions_mm,
            accessible=self.needs_accessible,
            cold=self.cold,
        )


@dataclass(frozen=True)
class Reservation:
    parcel_id: int
    compartment_id: int
    reserved_until: datetime


@dataclass(frozen=True)
class Stored:
    """A parcel now in its compartment, with its code in clear text (shown once)."""

    parcel_id: int
    compartment_id: int
    deadline: datetime
    code: PickupCode | None  # None for a return: nobody collects it with a code
    opens: tuple[int, ...] = ()  # every parcel the code opens (this one first)


def needs_of(parcel: Parcel) -> ParcelNeeds:
    dims = (parcel.width_mm, parcel.height_mm, parcel.depth_mm)
    return ParcelNeeds(
        size=parcel.size,
        dimensions_mm=None if None in dims else (dims[0] or 0, dims[1] or 0, dims[2] or 0),
        accessible=parcel.needs_accessible,
        cold=parcel.cold,
    )


def with_recipient(session: Session, data: ParcelInput) -> ParcelInput:
    """The parcel as the directory completes it: a chosen person's name, contact, language,
    accessibility need and channels replace what the courier typed; a parcel for nobody
    found ("recipient unknown") keeps the typed name for staff and no contact at all, so
    nobody is told of it before staff assign it to a person."""
    if data.recipient_id is not None and data.recipient_unknown:
        raise InvalidTransition("a parcel is for a chosen person or for an unknown one, not both")
    if data.recipient_unknown:
        return replace(data, recipient_email=None, recipient_phone=None, notify_by=None)
    if data.recipient_id is None:
        return data
    person = session.get(Recipient, data.recipient_id)
    if person is None:
        raise NotFound("recipient", data.recipient_id)
    return replace(
        data,
        recipient_name=person.name,
        recipient_email=person.email,
        recipient_phone=person.phone,
        recipient_language=person.language,
        needs_accessible=data.needs_accessible or person.needs_accessible,
        notify_by=person.notify_by,
    )


def completed(station: Station, data: ParcelInput) -> ParcelInput:
    with station.db.read() as session:
        return with_recipient(session, data)


def live_parcel(session: Session, carrier: str, tracking_number: str) -> Parcel | None:
    """The live parcel (announced, held, stored or expired) that has this carrier's
    tracking number; at most one has it (the index of migration 0016)."""
    return session.exec(
        select(Parcel).where(
            Parcel.carrier == carrier,
            Parcel.tracking_number == tracking_number,
            col(Parcel.state).in_(LIVE_PARCEL_STATES),
        )
    ).first()


def announced_parcel(session: Session, carrier: str, tracking_number: str) -> int | None:
    """The id of the announced parcel with this carrier's tracking number, if any."""
    found = live_parcel(session, carrier, tracking_number)
    return found.id if found is not None and found.state is ParcelState.ANNOUNCED else None


def new_parcel(
    session: Session, data: ParcelInput, *, actor: str, now: datetime, currency: str = "EUR"
) -> Parcel:
    live = live_parcel(session, data.carrier, data.tracking_number)
    if live is not None:
        raise TrackingNumberLive(
            f"{data.carrier} {data.tracking_number} is parcel {live.id} here already "
            f"({live.state.value}): one tracking number is one parcel"
        )
    data = with_recipient(session, data)
    data.needs()  # validates size / dimensions
    dims = data.dimensions_mm or (None, None, None)
    parcel = Parcel(
        state=ParcelState.ANNOUNCED,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        recipient_name=data.recipient_name,
        recipient_phone=data.recipient_phone,
        recipient_email=data.recipient_email,
        size=data.size,
        width_mm=dims[0],
        height_mm=dims[1],
        depth_mm=dims[2],
        needs_accessible=data.needs_accessible,
        needs_cooling=data.cold is not None,
        cold=data.cold,
        courier=actor,
        created_at=now,
        kind=data.kind,
        recipient_language=data.recipient_language,
        recipient_id=data.recipient_id,
        recipient_unknown=data.recipient_unknown,
        notify_by=data.notify_by,
        flagged=UNKNOWN_FLAG if data.recipient_unknown else "",
        amount_due_cents=amounts.cents(data.amount_due_cents),
        currency=amounts.currency(data.currency or currency),
    )
    session.add(parcel)
    session.flush()
    due = (
        f"amount due {amounts.shown(parcel.amount_due_cents, parcel.currency)}"
        if parcel.amount_due_cents
        else ""
    )
    record(
        session, actor=actor, action="parcel.announced", now=now, parcel_id=parcel.id, detail=due
    )
    return parcel


UNKNOWN_FLAG = "recipient unknown: assign it to a person or send it back"
