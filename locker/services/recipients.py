"""Parcels whose recipient the courier did not find in the directory ("recipient unknown").

Such a parcel is stored like any other, but gets no code and nobody hears of it; staff
are alerted. Staff then either assign it to a person of the directory, who is told at
that moment (the pickup code's message goes out then, with the full pickup period from
then on), or send it back: it becomes expired at once and waits for its carrier's courier
on the usual take-back list.
"""

from __future__ import annotations

from sqlmodel import Session

from locker.alerts import clear_alerts
from locker.audit import record
from locker.errors import DoorBusy, InvalidTransition
from locker.lifecycle import move
from locker.people.directory import recipient_row
from locker.services.intake import Stored
from locker.services.issuing import issue_code, waiting_for_same_recipient
from locker.station import Station, busy_doors, get_parcel
from locker.store.tables import Parcel
from locker.types import AlertKind, ParcelKind, ParcelState

SENT_BACK_FLAG = "recipient unknown: sent back to the carrier"


def _unknown_stored(session: Session, parcel_id: int) -> Parcel:
    parcel = get_parcel(session, parcel_id)
    if not parcel.recipient_unknown or parcel.kind is not ParcelKind.DELIVERY:
        raise InvalidTransition(f"parcel {parcel_id} has its recipient already")
    if parcel.state is not ParcelState.STORED or parcel.compartment_id is None:
        raise InvalidTransition(
            f"parcel {parcel_id} is {parcel.state}: only a stored parcel is assigned or sent "
            "back (give an expired one more time first)"
        )
    if parcel.compartment_id in busy_doors(session):
        raise DoorBusy(f"compartment {parcel.compartment_id} is being opened right now")
    return parcel


def assign(station: Station, *, actor: str, parcel_id: int, recipient_id: int) -> Stored:
    """The parcel is for this person of the directory: it carries their contact, language
    and channels, gets its code (whose message goes out now) and a fresh pickup period."""
    now = station.now()
    with station.db.write() as session:
        parcel = _unknown_stored(session, parcel_id)
        person = recipient_row(session, recipient_id)
        parcel.recipient_id = person.id
        parcel.recipient_name = person.name
        parcel.recipient_email = person.email
        parcel.recipient_phone = person.phone
        parcel.recipient_language = person.language
        parcel.needs_accessible = parcel.needs_accessible or person.needs_accessible
        parcel.notify_by = person.notify_by
        parcel.recipient_unknown = False
        parcel.flagged = ""
        parcel.deadline = max(parcel.deadline or now, now + station.policy.period_for(parcel.cold))
        session.add(parcel)
        assert parcel.compartment_id is not None
        record(
            session,
            actor=actor,
            action="parcel.assigned",
            now=now,
            compartment_id=parcel.compartment_id,
            parcel_id=parcel_id,
            detail=f"recipient {person.id}",
        )
        clear_alerts(
            session, AlertKind.RECIPIENT_UNKNOWN, compartment_id=parcel.compartment_id, now=now
        )
        together = [parcel, *waiting_for_same_recipient(session, parcel)]
        code = issue_code(session, station, together, now=now)
        return Stored(
            parcel_id,
            parcel.compartment_id,
            parcel.deadline,
            code,
            tuple(p.id or 0 for p in together),
        )


def send_back(station: Station, *, actor: str, parcel_id: int) -> None:
    """Nobody the parcel could be for: it expires now and waits for its carrier's courier
    (the take-back list); it stays "recipient unknown", so nobody is ever told of it."""
    now = station.now()
    with station.db.write() as session:
        parcel = _unknown_stored(session, parcel_id)
        parcel.deadline = now
        parcel.flagged = SENT_BACK_FLAG
        move(session, parcel, ParcelState.EXPIRED, actor=actor, now=now, detail="sent back")
        record(
            session,
            actor=actor,
            action="parcel.sent_back",
            now=now,
            compartment_id=parcel.compartment_id,
            parcel_id=parcel_id,
            detail="recipient unknown",
        )
        clear_alerts(
            session, AlertKind.RECIPIENT_UNKNOWN, compartment_id=parcel.compartment_id, now=now
        )
