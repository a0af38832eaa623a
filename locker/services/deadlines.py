"""A stored parcel's deadline: extended by staff or the recipient, and kept equal across the
parcels that share a compartment (a later deposit, an extension or a hold moves them all).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from locker.errors import DoorBusy, InvalidTransition
from locker.lifecycle import move
from locker.notify.outbox import record_event
from locker.services.issuing import extend_codes
from locker.services.shared_compartments import mates
from locker.station import Station, busy_doors, get_parcel
from locker.store.tables import Parcel
from locker.types import ParcelState

LONGEST_DEADLINE = timedelta(days=365)


def extend_deadline(station: Station, *, actor: str, parcel_id: int, until: datetime) -> None:
    """Give the recipient until ``until``; an expired parcel becomes collectable again."""
    now = station.now()
    if until <= now:
        raise InvalidTransition("the new deadline must lie in the future")
    if until > now + LONGEST_DEADLINE:
        raise InvalidTransition("a deadline may lie at most a year ahead")
    with station.db.write() as session:
        prolong(session, get_parcel(session, parcel_id), until, actor=actor, now=now)


def prolong(
    session: Session,
    parcel: Parcel,
    until: datetime,
    *,
    actor: str,
    now: datetime,
    with_mates: bool = True,
) -> None:
    """Move a stored or expired parcel's deadline to ``until`` (its codes follow); the
    recipient and the carrier hear of it. Parcels sharing its compartment follow too."""
    if parcel.compartment_id in busy_doors(session):
        raise DoorBusy(f"compartment {parcel.compartment_id} is being opened right now")
    if parcel.state not in (ParcelState.STORED, ParcelState.EXPIRED):
        raise InvalidTransition(
            f"parcel {parcel.id} is {parcel.state}; only stored or expired ones"
        )
    assert parcel.id is not None
    parcel.deadline = until
    extend_codes(session, parcel.id, until)
    if parcel.state is ParcelState.EXPIRED:
        move(session, parcel, ParcelState.STORED, actor=actor, now=now, detail=until.isoformat())
    else:
        session.add(parcel)
        record_event(
            session, "parcel.deadline_extended", now=now, parcel=parcel, detail={"by": actor}
        )
    if with_mates:
        align(session, parcel, actor=actor, now=now)


def join(session: Session, parcel: Parcel, *, actor: str, now: datetime) -> list[Parcel]:
    """``parcel`` was just stored beside others: they wait as long as it does (an expired
    one is collectable again, since the recipient's new code opens the door). Returns
    the compartment's other parcels."""
    others = mates(session, parcel)
    assert parcel.deadline is not None
    for other in others:
        if other.deadline is None or other.deadline < parcel.deadline:
            prolong(session, other, parcel.deadline, actor=actor, now=now, with_mates=False)
    return others


def align(session: Session, parcel: Parcel, *, actor: str, now: datetime) -> None:
    """After ``parcel``'s deadline moved: its compartment's other parcels get the same one."""
    for other in mates(session, parcel):
        if other.state in (ParcelState.STORED, ParcelState.EXPIRED) and (
            other.deadline != parcel.deadline
        ):
            assert parcel.deadline is not None
            prolong(session, other, parcel.deadline, actor=actor, now=now, with_mates=False)
