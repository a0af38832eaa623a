"""Couriers bring parcels in: announce → reserve → deposit (door opens) → confirm_stored."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlmodel import Session, col, select

from locker.alerts import raise_alert
from locker.assignment import ParcelNeeds, ranked
from locker.audit import record
from locker.cold.refusal import no_cold_compartment
from locker.errors import (
    DoorBusy,
    DoorNotClosed,
    InvalidTransition,
    NoFreeCompartment,
    ParcelNotDetected,
)
from locker.lifecycle import move
from locker.locks import DoorOutcome, DoorReading
from locker.services import doors
from locker.services.deadlines import join
from locker.services.doors import DoorResult
from locker.services.intake import (
    ParcelInput,
    Reservation,
    Stored,
    announced_parcel,
    completed,
    needs_of,
    new_parcel,
)
from locker.services.issuing import issue_code, waiting_for_same_recipient
from locker.station import (
    Station,
    as_compartment_id,
    busy_doors,
    free_compartments,
    get_parcel,
    set_condition,
)
from locker.store.tables import Parcel
from locker.types import (
    AlertKind,
    CompartmentId,
    Condition,
    DoorPurpose,
    ParcelKind,
    ParcelState,
)


def announce(station: Station, *, actor: str, parcel: ParcelInput) -> int:
    """A carrier pre-registers a parcel; no compartment is held yet."""
    with station.db.write() as session:
        row = new_parcel(
            session, parcel, actor=actor, now=station.now(), currency=station.policy.currency
        )
        assert row.id is not None
        return row.id


READ_AHEAD = 8  # the best free candidates read at once (mostly on one board)
RESERVE_TRIES = 5  # when other couriers held every candidate read meanwhile


class _HeldMeanwhile(Exception):
    """Every candidate read shut and empty was held by someone else meanwhile."""


def reserve(
    station: Station, *, actor: str, parcel: ParcelInput | None = None, parcel_id: int | None = None
) -> Reservation:
    """Hold the best free compartment for a new or announced parcel.

    A courier is never sent to a door that still stands open (a customer is taking a
    parcel out of it) or to a compartment with something inside: the best candidates are
    read before one of them is held. The read is outside any transaction, so several
    are read at once (other couriers may hold some meanwhile); only one read shut and
    empty, or whose board did not answer (opening it will tell), is held. When others
    held all of them, the candidates are read again, a few times, then the courier is
    asked to try again (``DoorBusy``): a door is never handed out unread.
    """
    if parcel_id is None and parcel is not None:
        # Announced before (by its carrier, here or through the hub): that parcel is
        # deposited, never a second one beside it.
        with station.db.read() as session:
            parcel_id = announced_parcel(session, parcel.carrier, parcel.tracking_number)
        if parcel_id is not None:
            parcel = None
    if parcel_id is not None:
        with station.db.read() as session:
            known = get_parcel(session, parcel_id)
            if known.state is not ParcelState.ANNOUNCED:  # before any door is read
                raise InvalidTransition(f"parcel {parcel_id} is {known.state}, not announced")
            needs = needs_of(known)
    elif parcel is not None:
        parcel = completed(station, parcel)  # a chosen person's accessibility need counts
        needs = parcel.needs()
    else:
        raise ValueError("reserve needs a parcel or a parcel_id")
    for _ in range(RESERVE_TRIES):
        usable, passed_over = _read_candidates(station, needs)
        with contextlib.suppress(_HeldMeanwhile):
            return _hold(station, actor, parcel, parcel_id, needs, usable, passed_over)
    raise DoorBusy("other couriers are being given compartments right now: try again")


def _read_candidates(station: Station, needs: ParcelNeeds) -> tuple[set[int], set[int]]:
    """Read the free compartments that fit, best first, READ_AHEAD at a time, until some
    may be used. Returns those (shut and empty, or unread) and those to pass over."""
    with station.db.read() as session:
        candidates = [spec.id for spec in ranked(needs, free_compartments(session, station.layout))]
    usable: set[int] = set()
    passed_over: set[int] = set()
    for start in range(0, len(candidates), READ_AHEAD):
        batch = [as_compartment_id(cid) for cid in candidates[start : start + READ_AHEAD]]
        readings = station.locks.read(batch)
        for cid in batch:
            reading = readings.get(cid)
            if reading is None or (reading.latched and reading.occupied is not True):
                usable.add(cid)
            else:
                passed_over.add(cid)
        if usable:
            break
    return usable, passed_over


def _hold(
    station: Station,
    actor: str,
    parcel: ParcelInput | None,
    parcel_id: int | None,
    needs: ParcelNeeds,
    usable: set[int],
    passed_over: set[int],
) -> Reservation:
    """Hold the best free compartment among the ``usable`` ones, in one transaction."""
    now = station.now()
    with station.db.write() as session:
        if parcel_id is not None:
            row = get_parcel(session, parcel_id)
        else:
            assert parcel is not None
            row = new_parcel(
                session, parcel, actor=actor, now=now, currency=station.policy.currency
            )
        if row.state is not ParcelState.ANNOUNCED:
            raise InvalidTransition(f"parcel {row.id} is {row.state}, not announced")
        fitting = ranked(needs, free_compartments(session, station.layout))
        spec = next((s for s in fitting if s.id in usable), None)
        if spec is None:
            if any(s.id not in passed_over for s in fitting):
                raise _HeldMeanwhile  # rolls the transaction back, the new parcel with it
            if needs.cold is not None and not passed_over:  # never an ambient one instead
                raise no_cold_compartment(session, station.layout, needs.cold)
            if passed_over:
                raise NoFreeCompartment(
                    "no free compartment fits this parcel: "
                    f"{len(passed_over)} stand open or are not empty, try again in a minute"
                )
            raise NoFreeCompartment("no free compartment fits this parcel")
        row.compartment_id = spec.id
        row.reserved_until = now + station.policy.reservation_ttl
        move(session, row, ParcelState.RESERVED, actor=actor, now=now)
        assert row.id is not None
        return Reservation(row.id, spec.id, row.reserved_until)


def deposit(station: Station, *, actor: str, parcel_id: int) -> DoorResult:
    """Open the reserved compartment for the courier.

    If it does not open, the compartment is put at fault and the reservation released,
    so the courier can reserve again and get another compartment.
    """

    opened_for: list[int] = []

    def target(session: Session) -> doors.Target:
        parcel = get_parcel(session, parcel_id)
        if parcel.state is not ParcelState.RESERVED or parcel.compartment_id is None:
            raise InvalidTransition(f"parcel {parcel_id} is {parcel.state}, not reserved")
        opened_for.append(parcel.compartment_id)
        return parcel.compartment_id, (parcel_id,)

    def settle(session: Session, outcome: DoorOutcome, now: datetime) -> None:
        parcel = get_parcel(session, parcel_id)
        if parcel.state is not ParcelState.RESERVED or parcel.compartment_id != opened_for[0]:
            doors.changed_during_opening(session, opened_for[0], parcel_id, now=now)
        elif outcome is DoorOutcome.OPENED or outcome in doors.UNCERTAIN:
            # Uncertain: the door may be open and the courier may fill it, so the
            # compartment stays held (and at fault) until the door is read or staff decide.
            parcel.door_opened_at = now
            parcel.door_unconfirmed = outcome is not DoorOutcome.OPENED
            parcel.courier = actor
            session.add(parcel)
        else:
            release_reservation(
                session, parcel, actor="system", now=now, why="its door did not open"
            )

    return doors.operate(
        station, purpose=DoorPurpose.DEPOSIT, actor=actor, target=target, settle=settle
    )


def report_stuck_door(station: Station, *, actor: str, parcel_id: int) -> int:
    """The courier says the reserved compartment's door would not open, whatever the board
    said: the compartment is marked faulty for staff to check, and the parcel may be
    reserved again elsewhere. Returns the faulty compartment's id."""
    with station.db.read() as session:
        parcel = get_parcel(session, parcel_id)
        if parcel.state is not ParcelState.RESERVED or parcel.compartment_id is None:
            raise InvalidTransition(f"parcel {parcel_id} is {parcel.state}, not reserved")
        cid = parcel.compartment_id
    reading = station.locks.read([as_compartment_id(cid)]).get(as_compartment_id(cid))
    if reading is not None and reading.occupied:
        raise InvalidTransition(
            f"compartment {cid} already holds something: close it and confirm the deposit"
        )
    now = station.now()
    with station.db.write() as session:
        parcel = get_parcel(session, parcel_id)
        if parcel.state is not ParcelState.RESERVED or parcel.compartment_id != cid:
            raise InvalidTransition(f"parcel {parcel_id} changed while its door was read")
        if cid in busy_doors(session):
            raise DoorBusy(f"compartment {cid} is being opened right now")
        set_condition(
            session,
            cid,
            Condition.FAULT,
            actor=actor,
            now=now,
            note="the courier reported that its door would not open",
        )
        release_reservation(session, parcel, actor=actor, now=now, why="its door would not open")
        return cid


def release_reservation(
    session: Session, parcel: Parcel, *, actor: str, now: datetime, why: str
) -> None:
    move(session, parcel, ParcelState.ANNOUNCED, actor=actor, now=now, detail=why)
    parcel.compartment_id = None
    parcel.beside_parcel_id = None  # a parcel held beside another goes elsewhere too
    parcel.reserved_until = None
    parcel.door_opened_at = None
    parcel.door_unconfirmed = False


def confirm_stored(station: Station, *, parcel_id: int, actor: str = "system") -> Stored:
    """The courier closed the door: check it is latched and not empty, store, issue a code."""
    with station.db.read() as session:
        parcel = get_parcel(session, parcel_id)
        if parcel.state is not ParcelState.RESERVED or parcel.door_opened_at is None:
            raise InvalidTransition(f"parcel {parcel_id} was not deposited (state {parcel.state})")
        assert parcel.compartment_id is not None
        cid = parcel.compartment_id
    reading = station.locks.read([as_compartment_id(cid)]).get(as_compartment_id(cid))
    if reading is None or not reading.latched:
        raise DoorNotClosed(f"compartment {cid} is not closed yet: push the door until it clicks")
    if reading.occupied is False:
        raise ParcelNotDetected(f"compartment {cid} looks empty: put the parcel in and close again")
    now = station.now()
    with station.db.write() as session:
        parcel = get_parcel(session, parcel_id)
        if parcel.state is not ParcelState.RESERVED or parcel.compartment_id != cid:
            raise InvalidTransition(f"parcel {parcel_id} changed while its door was read")
        deadline = now + station.policy.period_for(parcel.cold)  # cold parcels wait less
        parcel.stored_at = now
        parcel.deadline = deadline
        parcel.reserved_until = None
        parcel.door_unconfirmed = False
        move(session, parcel, ParcelState.STORED, actor=actor, now=now)
        if parcel.kind is ParcelKind.RETURN:  # waits for its courier; nobody collects it
            return Stored(parcel_id, cid, deadline, None, (parcel_id,))
        if parcel.recipient_unknown:  # no code until staff assign it (or send it back)
            raise_alert(
                session,
                AlertKind.RECIPIENT_UNKNOWN,
                compartment_id=cid,
                now=now,
                detail=f"parcel {parcel_id} ({parcel.carrier} {parcel.tracking_number}) is "
                "stored for a recipient the courier did not find in the directory: assign "
                "it to a person (who is then told) or send it back",
            )
            return Stored(parcel_id, cid, deadline, None, (parcel_id,))
        # Several parcels, one compartment: those it lies beside wait as long, and the
        # new code opens them too.
        mates = join(session, parcel, actor=actor, now=now)
        together = [parcel, *waiting_for_same_recipient(session, parcel)]
        together += [m for m in mates if m.id not in {p.id for p in together}]
        code = issue_code(session, station, together, now=now)
        return Stored(parcel_id, cid, deadline, code, tuple(p.id or 0 for p in together))


def release_expired_reservations(station: Station) -> list[int]:
    """Give back compartments held for parcels whose courier never opened the door."""
    now = station.now()
    with station.db.write() as session:
        due = session.exec(
            select(Parcel).where(
                Parcel.state == ParcelState.RESERVED,
                col(Parcel.door_opened_at).is_(None),
                col(Parcel.reserved_until) <= now,
            )
        ).all()
        busy = busy_doors(session)  # a deposit under way settles its own reservation
        due = [p for p in due if p.compartment_id not in busy]
        for parcel in due:
            release_reservation(session, parcel, actor="system", now=now, why="reservation expired")
        return [p.id for p in due if p.id is not None]


def store_closed_deposits(
    station: Station,
    readings: Mapping[CompartmentId, DoorReading] | None = None,
    on_stored: Callable[[Stored], None] | None = None,
) -> list[Stored]:
    """Store every deposited parcel whose door is now seen latched (the door watcher's job).

    A deposit whose door may not have opened (the board did not answer) is stored only
    once its door has been seen open, or the IR strip sees something inside: a board
    without IR could otherwise make an empty compartment "stored".

    ``readings`` may come from a read of the whole station made just before; ``on_stored``
    gets each stored parcel (with its code) as soon as it is committed.
    """
    with station.db.read() as session:
        waiting = session.exec(
            select(Parcel.id, Parcel.compartment_id, Parcel.door_unconfirmed).where(
                Parcel.state == ParcelState.RESERVED, col(Parcel.door_opened_at).is_not(None)
            )
        ).all()
    if not waiting:
        return []
    if readings is None:
        readings = station.locks.read([as_compartment_id(cid) for _, cid, _ in waiting if cid])
    stored = []
    for pid, cid, unconfirmed in waiting:
        reading = readings.get(as_compartment_id(cid or 0))
        if pid is None or reading is None:
            continue
        if unconfirmed and not reading.latched:
            _door_seen_open(station, pid)
            continue
        if not reading.latched or (unconfirmed and reading.occupied is not True):
            continue
        try:
            item = confirm_stored(station, parcel_id=pid)
        except (DoorNotClosed, ParcelNotDetected, InvalidTransition):
            continue  # changed since the read, or the courier closed an empty door
        if on_stored is not None:
            on_stored(item)
        stored.append(item)
    return stored


def _door_seen_open(station: Station, parcel_id: int) -> None:
    """The door of a deposit that may not have opened is open after all."""
    with station.db.write() as session:
        parcel = get_parcel(session, parcel_id)
        if parcel.state is ParcelState.RESERVED and parcel.door_unconfirmed:
            parcel.door_unconfirmed = False
            session.add(parcel)
            record(
                session,
                actor="system",
                action="parcel.door_seen_open",
                now=station.now(),
                compartment_id=parcel.compartment_id,
                parcel_id=parcel_id,
            )
