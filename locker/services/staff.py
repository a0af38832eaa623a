"""The shop's staff and the station's own housekeeping: doors, service, expiry, take-backs
and new codes (deadlines are in :mod:`locker.services.deadlines`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from locker.alerts import clear_station_alerts, raise_alert
from locker.audit import record
from locker.errors import DoorBusy, InvalidTransition, ReasonRequired, SecondStaffRequired
from locker.lifecycle import move, to_take_back
from locker.locks import DoorOutcome
from locker.services import doors, shared_compartments
from locker.services.announcements import lapse_announcements
from locker.services.deposit import release_expired_reservations, release_reservation
from locker.services.doors import DoorResult
from locker.services.intake import Stored
from locker.services.issuing import issue_code, retire_spent_codes, unlink_codes
from locker.station import Station, busy_doors, compartment_row, get_parcel, set_condition
from locker.store.tables import DoorOp, Parcel
from locker.types import AlertKind, Condition, DoorPurpose, ParcelKind, ParcelState


@dataclass(frozen=True)
class ExpiryReport:
    expired_parcels: tuple[int, ...]
    released_reservations: tuple[int, ...]
    lapsed_announcements: tuple[int, ...] = ()


def open_door(
    station: Station,
    *,
    actor: str,
    compartment_id: int,
    reason: str,
    by_admin: bool = False,
    confirmed_by: str | None = None,
) -> DoorResult:
    """Open any door for staff; the reason goes to the audit log. Parcels stay as they are.

    Once ``policy.staff_open_limit`` staff openings fell within ``staff_open_window``
    (station-wide), a further one needs an admin (``by_admin``) or a second staff member
    who confirmed it (``confirmed_by``, checked by the caller, see
    :func:`locker.people.sign_in.confirm_second_staff`); reaching the limit alerts staff.
    """
    reason = reason.strip()
    if not reason:
        raise ReasonRequired("say why the door is opened: the reason goes to the audit log")
    limit = station.policy.staff_open_limit
    window = station.policy.staff_open_window
    minutes = f"{window.total_seconds() / 60:g}"
    noted = f"{reason} (confirmed by {confirmed_by})" if confirmed_by else reason

    def target(session: Session) -> doors.Target:
        compartment_row(session, compartment_id)
        now = station.now()
        before = staff_openings(session, since=now - window)
        if before >= limit and not by_admin and confirmed_by is None:
            raise SecondStaffRequired(
                f"{before} doors were opened by staff in the last {minutes} minutes: a second "
                "staff member must confirm this opening with their name and password "
                "(or an admin opens it)"
            )
        if before + 1 >= limit:
            raise_alert(
                session,
                AlertKind.STAFF_OPENINGS,
                compartment_id=None,
                now=now,
                detail=f"{before + 1} doors opened by staff in the last {minutes} minutes; "
                "further openings need a second staff member or an admin",
            )
        else:
            clear_station_alerts(session, AlertKind.STAFF_OPENINGS, now=now)
        return compartment_id, ()

    try:
        return doors.operate(
            station, purpose=DoorPurpose.STAFF, actor=actor, target=target, reason=noted
        )
    except SecondStaffRequired:
        with station.db.write() as session:
            record(
                session,
                actor=actor,
                action="door.open_unconfirmed",
                now=station.now(),
                compartment_id=compartment_id,
                detail=reason,
            )
        raise


def staff_openings(session: Session, *, since: datetime) -> int:
    """How many doors staff opened (or tried to) one by one since ``since``."""
    return session.exec(
        select(func.count(col(DoorOp.id))).where(
            DoorOp.purpose == DoorPurpose.STAFF, col(DoorOp.created_at) > since
        )
    ).one()


@dataclass(frozen=True)
class OpenAllDoor:
    """What came of one door when every door was opened."""

    compartment_id: int
    outcome: DoorOutcome | None  # None: skipped, see ``skipped``
    skipped: str = ""  # why it was not tried: out_of_service, fault, busy

    @property
    def opened(self) -> bool:
        return self.outcome is DoorOutcome.OPENED


def open_all(station: Station, *, actor: str, reason: str) -> list[OpenAllDoor]:
    """Open every door in service, one after another, each through the usual three steps
    (intent, pulse, outcome); doors out of service, at fault or being opened are skipped.
    The caller lets only admins do this. Audited as one ``open_all`` action (and the door
    rows of each opening), with a summary when done."""
    reason = reason.strip()
    if not reason:
        raise ReasonRequired("say why every door is opened: the reason goes to the audit log")
    ids = [spec.id for spec in station.layout.compartments]
    with station.db.write() as session:
        record(
            session,
            actor=actor,
            action="open_all",
            now=station.now(),
            detail=f"{reason} ({len(ids)} compartments)",
        )
    results: list[OpenAllDoor] = []
    for cid in ids:

        def target(session: Session, cid: int = cid) -> doors.Target:
            condition = compartment_row(session, cid).condition
            if condition is not Condition.OK:
                raise _Skip(condition.value)
            return cid, ()

        try:
            result = doors.operate(
                station,
                purpose=DoorPurpose.OPEN_ALL,
                actor=actor,
                target=target,
                reason=reason,
            )
        except _Skip as skip:
            results.append(OpenAllDoor(cid, None, skip.why))
        except DoorBusy:
            results.append(OpenAllDoor(cid, None, "busy"))
        else:
            results.append(OpenAllDoor(cid, result.outcome))
    opened = [r.compartment_id for r in results if r.opened]
    failed = [
        f"{r.compartment_id}: {r.outcome.value}" for r in results if r.outcome and not r.opened
    ]
    skipped = [f"{r.compartment_id}: {r.skipped}" for r in results if r.outcome is None]
    with station.db.write() as session:
        record(
            session,
            actor=actor,
            action="open_all.done",
            now=station.now(),
            detail=f"opened {len(opened)}; did not open {len(failed)}"
            f"{' (' + ', '.join(failed) + ')' if failed else ''}; skipped {len(skipped)}"
            f"{' (' + ', '.join(skipped) + ')' if skipped else ''}",
        )
    return results


class _Skip(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


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


def expire(station: Station) -> ExpiryReport:
    """Expire stored parcels past their deadline and reservations past their hold time;
    end the announcements nobody brought in (``Policy.announcement_expiry``)."""
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
    released = tuple(release_expired_reservations(station))
    return ExpiryReport(expired, released, tuple(lapse_announcements(station)))


def take_back(station: Station, *, actor: str, parcel_id: int) -> DoorResult:
    """A courier takes an expired parcel (or a dropped-off return) back: its door opens and
    the parcel is returned."""

    taken: list[int] = []

    def target(session: Session) -> doors.Target:
        parcel = get_parcel(session, parcel_id)
        if not to_take_back(parcel) or parcel.compartment_id is None:
            raise InvalidTransition(f"parcel {parcel_id} is {parcel.state}, not for taking back")
        shared_compartments.refuse_while_depositing(session, parcel.compartment_id)
        # A shared compartment: the parcels beside it go back with it.
        taken.extend(
            p.id
            for p in shared_compartments.mates(session, parcel)
            if to_take_back(p) and p.id is not None
        )
        return parcel.compartment_id, (parcel_id, *taken)

    def settle(session: Session, outcome: DoorOutcome, now: datetime) -> None:
        if outcome is DoorOutcome.OPENED:
            for pid in (parcel_id, *taken):
                parcel = get_parcel(session, pid)
                if not to_take_back(parcel):
                    assert parcel.compartment_id is not None
                    doors.changed_during_opening(session, parcel.compartment_id, pid, now=now)
                    continue
                move(session, parcel, ParcelState.RETURNED, actor=actor, now=now)
                parcel.finished_at = now
                retire_spent_codes(session, pid, now=now)

    return doors.operate(
        station, purpose=DoorPurpose.TAKE_BACK, actor=actor, target=target, settle=settle
    )


def reissue_code(
    station: Station, *, actor: str, parcel_id: int, action: str = "code.reissued"
) -> Stored:
    """A new code for a stored or expired parcel whose code was lost; the old ones stop
    opening it. The new code is returned in clear text once, for the reprint, and the
    recipient's message with it goes out as for a deposit (``code.issued``). ``action``
    is what the audit calls it: ``code.reissued`` (made for staff to hand over) or
    ``code.resent`` (sent to the recipient only; staff never see it)."""
    now = station.now()
    with station.db.write() as session:
        parcel = get_parcel(session, parcel_id)
        if parcel.state not in (ParcelState.STORED, ParcelState.EXPIRED):
            raise InvalidTransition(f"parcel {parcel_id} is {parcel.state}; it has no live code")
        if parcel.kind is ParcelKind.RETURN:
            raise InvalidTransition(f"parcel {parcel_id} is a return: its courier takes it")
        assert parcel.compartment_id is not None
        assert parcel.deadline is not None
        # A shared compartment's parcels get the new code together (one door, one code).
        together = [parcel] + [
            p
            for p in shared_compartments.mates(session, parcel)
            if p.state in (ParcelState.STORED, ParcelState.EXPIRED)
        ]
        for one in together:
            assert one.id is not None
            unlink_codes(session, one.id, now=now)
        code = issue_code(session, station, together, now=now)
        for one in together:
            record(session, actor=actor, action=action, now=now, parcel_id=one.id)
        opens = tuple(p.id or 0 for p in together)
        return Stored(parcel_id, parcel.compartment_id, parcel.deadline, code, opens)
