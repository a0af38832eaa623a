"""Holds (issue 17): a recipient who is away asks the station to keep their parcels a few
days longer, by the link in their messages or at the kiosk with their code.

A hold of ``days`` moves each parcel's deadline ``days`` later and keeps reminders back
until the recipient is back (``held_until``); a parcel may be held at most the shop's
``max_days`` in all (``LOCKER_HOLD_MAX_DAYS``). It covers every parcel the recipient has
waiting with the same carrier (those one code opens, and those sharing a compartment).
Audited as ``parcel.held`` for each parcel; the carrier hears of the new deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from locker.audit import record
from locker.errors import CodeInvalid, DomainError
from locker.services import shared_compartments
from locker.services.deadlines import prolong
from locker.services.issuing import waiting_for_same_recipient
from locker.services.pickup import parcels_of_code
from locker.station import Station, get_parcel
from locker.store.tables import Parcel
from locker.types import ParcelKind, ParcelState


class HoldRefused(DomainError):
    code = "hold_refused"
    status = 409


@dataclass(frozen=True)
class Held:
    parcel_ids: tuple[int, ...]
    held_until: datetime
    deadline: datetime  # the latest new deadline among them


def days_left(parcel: Parcel, max_days: int) -> int:
    """How many more days this parcel may still be held."""
    return max(0, max_days - parcel.hold_days)


def _hold(
    session: Session,
    parcels: Sequence[Parcel],
    *,
    days: int | None,
    max_days: int,
    actor: str,
    now: datetime,
) -> Held:
    """``days`` None: as many as the shop still allows for all of them."""
    group = {p.id: p for p in parcels if p.state is ParcelState.STORED}
    if not group:
        raise HoldRefused("no parcel of this code is waiting in the station")
    for parcel in list(group.values()):
        for other in shared_compartments.mates(session, parcel):
            if other.state is ParcelState.STORED:
                group.setdefault(other.id, other)
    if days is None:
        days = min(days_left(p, max_days) for p in group.values())
        if days == 0:
            raise HoldRefused(f"the parcels were held {max_days} days already (the shop's limit)")
    if not 1 <= days <= max_days:
        raise HoldRefused(f"a hold is 1 to {max_days} days")
    for parcel in group.values():
        if parcel.kind is not ParcelKind.DELIVERY:
            raise HoldRefused(f"parcel {parcel.id} is a return: its courier takes it")
        if parcel.hold_days + days > max_days:
            raise HoldRefused(
                f"parcel {parcel.id} may be held {days_left(parcel, max_days)} more day(s) "
                f"(the shop's limit is {max_days} in all)"
            )
    until = now + timedelta(days=days)
    latest = now
    for parcel in sorted(group.values(), key=lambda p: p.id or 0):
        assert parcel.deadline is not None
        new_deadline = parcel.deadline + timedelta(days=days)
        parcel.hold_days += days
        parcel.held_until = max(parcel.held_until or until, until)
        prolong(session, parcel, new_deadline, actor=actor, now=now, with_mates=False)
        record(
            session,
            actor=actor,
            action="parcel.held",
            now=now,
            compartment_id=parcel.compartment_id,
            parcel_id=parcel.id,
            detail=f"{days} day(s): no reminders until {until.isoformat()}, "
            f"deadline {new_deadline.isoformat()}",
        )
        latest = max(latest, new_deadline)
    return Held(tuple(sorted(p.id or 0 for p in group.values())), until, latest)


def hold_by_link(station: Station, parcel_id: int, *, days: int | None, max_days: int) -> Held:
    """The recipient followed the link in a message of ``parcel_id``."""
    now = station.now()
    with station.db.write() as session:
        parcel = get_parcel(session, parcel_id)
        together = [parcel, *waiting_for_same_recipient(session, parcel)]
        return _hold(
            session, together, days=days, max_days=max_days, actor="recipient:link", now=now
        )


def hold_by_code(
    station: Station, *, code: str, terminal: str, days: int | None, max_days: int
) -> Held:
    """At the kiosk: the parcels the code opens (nothing opens); wrong codes count
    against the attempt limits as for a collection."""
    now = station.now()
    with station.db.write() as session:
        parcels = parcels_of_code(session, station, code, terminal=terminal, now=now)
        if parcels:
            return _hold(
                session,
                parcels,
                days=days,
                max_days=max_days,
                actor=f"recipient@{terminal}",
                now=now,
            )
    raise CodeInvalid()
