"""The shop's staff and the station's own housekeeping: doors, service, deadlines, returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from locker.audit import record
from locker.errors import DoorBusy, InvalidTransition
from locker.lifecycle import move, to_take_back
from locker.locks import DoorOutcome
from locker.notify.outbox import record_event
from locker.services import doors
from locker.services.deposit import Stored, release_expired_reservations, release_reservation
from locker.services.doors import DoorResult
from locker.services.issuing import extend_codes, issue_code, retire_spent_codes, unlink_codes
from locker.station import Station, busy_doors, compartment_row, get_parcel, set_condition
from locker.tables import Parcel
from locker.types import Condition, DoorPurpose, ParcelKind, ParcelState


@dataclass(frozen=True)
class ExpiryReport:
    expired_parcels: tuple[int, ...]
    released_reservations: tuple[int, ...]


def open_door(station: Station, *, actor: str, compartment_id: int, reason: str) -> DoorResult:
    """Open any door for staff; the reason goes to the audit log. Parcels stay as they are."""
    if not reason.strip():
        raise InvalidTransition("say why the door is opened: the reason goes to the audit log")

    def target(session: Session) -> doors.Target:
        compartment_row(session, compartment_id)
        return compartment_id, ()

    return doors.operate(
        station, purpose=DoorPurpose.STAFF, actor=actor, target=target, reason=reason
    )


def set_out_of_service(station: Station, *, actor: str, compartment_id: int, reason: str) -> None:
    """Take a compartment out of service; a parcel not yet deposited there is sent elsewhere."""
    now = station.now()
    with station.db.write() as session:
        set_condition(
            session, compartment_id, Condition.OUT_OF_SERVICE, actor=actor, now=now, note=reason
        )
        waiting = session.exec(
            select(Parcel).where(
                Parcel.compartment_id == compartment_id,
                Parcel.state == ParcelState.RESERVED,
                col(Parcel.door_opened_at).is_(None),
            )
        ).all()
        busy = busy_doors(session)
        for parcel in waiting:
            if compartment_id in busy:
                continue  # a deposit is opening it: its outcome settles the reservation
            release_reservation(
                session, parcel, actor=actor, now=now, why="compartment out of service"
            )


def clear_fault(station: Station, *, actor: str, compartment_id: int, note: str = "") -> None:
    """Put a compartment at fault or out of service back into service."""
    with station.db.write() as session:
        row = compartment_row(session, compartment_id)
        if row.condition is Condition.OK:
            raise InvalidTransition(f"compartment {compartment_id} is already in service")
        set_condition(
            session, compartment_id, Condition.OK, actor=actor, now=station.now(), note=note
        )


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
    session: Session, parcel: Parcel, until: datetime, *, actor: str, now: datetime
) -> None:
    """Move a stored or expired parcel's deadline to ``until`` (its codes follow); the
    recipient and the carrier hear of it."""
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


def expire(station: Station) -> ExpiryReport:
    """Expire stored parcels past their deadline and reservations past their hold time."""
    now = station.now()
    with station.db.write() as session:
        busy = busy_doors(session)  # a collection under way settles its own parcels
        due = [
            parcel
            for parcel in session.exec(
                select(Parcel).where(
                    Parcel.state == ParcelState.STORED,
                    col(Parcel.deadline) <= now,
                    Parcel.kind != ParcelKind.RETURN,  # a return waits for its courier
                )
            ).all()
            if parcel.compartment_id not in busy
        ]
        for parcel in due:
            move(session, parcel, ParcelState.EXPIRED, actor="system", now=now)
        expired = tuple(p.id for p in due if p.id is not None)
    return ExpiryReport(expired, tuple(release_expired_reservations(station)))


def take_back(station: Station, *, actor: str, parcel_id: int) -> DoorResult:
    """A courier takes an expired parcel (or a dropped-off return) back: its door opens and
    the parcel is returned."""

    def target(session: Session) -> doors.Target:
        parcel = get_parcel(session, parcel_id)
        if not to_take_back(parcel) or parcel.compartment_id is None:
            raise InvalidTransition(f"parcel {parcel_id} is {parcel.state}, not for taking back")
        return parcel.compartment_id, (parcel_id,)

    def settle(session: Session, outcome: DoorOutcome, now: datetime) -> None:
        if outcome is DoorOutcome.OPENED:
            parcel = get_parcel(session, parcel_id)
            if not to_take_back(parcel):
                assert parcel.compartment_id is not None
                doors.changed_during_opening(session, parcel.compartment_id, parcel_id, now=now)
                return
            move(session, parcel, ParcelState.RETURNED, actor=actor, now=now)
            parcel.finished_at = now
            retire_spent_codes(session, parcel_id, now=now)

    return doors.operate(
        station, purpose=DoorPurpose.TAKE_BACK, actor=actor, target=target, settle=settle
    )


def reissue_code(station: Station, *, actor: str, parcel_id: int) -> Stored:
    """A new code for a stored or expired parcel whose code was lost; the old ones stop
    opening it. The new code is returned in clear text once, for the reprint."""
    now = station.now()
    with station.db.write() as session:
        parcel = get_parcel(session, parcel_id)
        if parcel.state not in (ParcelState.STORED, ParcelState.EXPIRED):
            raise InvalidTransition(f"parcel {parcel_id} is {parcel.state}; it has no live code")
        if parcel.kind is ParcelKind.RETURN:
            raise InvalidTransition(f"parcel {parcel_id} is a return: its courier takes it")
        assert parcel.compartment_id is not None
        assert parcel.deadline is not None
        unlink_codes(session, parcel_id, now=now)
        code = issue_code(session, station, [parcel], now=now)
        record(session, actor=actor, action="code.reissued", now=now, parcel_id=parcel_id)
        return Stored(parcel_id, parcel.compartment_id, parcel.deadline, code, (parcel_id,))
