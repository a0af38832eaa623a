"""Start-up: finish or flag every door intent that a crash left without an outcome.

The boards tell whether a door is latched and (with IR strips) whether something is
inside. From that, each interrupted opening is settled:

* door unlatched now: it opened; complete what the opening was for;
* door latched, IR says the parcel is gone (collect, take back): it opened and was
  closed again; complete it;
* door latched, IR says a parcel is inside after a deposit: the courier put it in;
  record the door as opened so the parcel can be confirmed stored;
* door latched, IR says nothing changed: it never opened; the parcel stays as it was;
* no reading, or no IR strip where it matters: the truth cannot be known; the
  compartment is put at fault with a note, for staff to check. Nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from locker.audit import record
from locker.lifecycle import move, to_take_back
from locker.locks import DoorReading
from locker.services.doors import parcel_ids_of
from locker.services.issuing import retire_spent_codes
from locker.services.pickup import hand_out
from locker.station import Station, as_compartment_id, get_parcel, set_condition
from locker.store.tables import DoorOp
from locker.types import Condition, DoorPurpose, ParcelState

OPENED = "opened"
NOT_OPENED = "not_opened"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Settled:
    op_id: int
    compartment_id: int
    verdict: str  # opened, not_opened or unknown (flagged for staff)


def pending(station: Station, *, older_than: timedelta | None = None) -> list[DoorOp]:
    with station.db.read() as session:
        query = select(DoorOp).where(col(DoorOp.outcome).is_(None)).order_by(col(DoorOp.id))
        if older_than is not None:
            query = query.where(col(DoorOp.created_at) <= station.now() - older_than)
        return list(session.exec(query).all())


def reconcile(station: Station, *, older_than: timedelta | None = None) -> list[Settled]:
    """Settle every door intent without an outcome; run before accepting requests.

    While the station runs, ``older_than`` settles only intents left behind by an opening
    whose outcome could not be committed (an opening takes about a second).
    """
    ops = pending(station, older_than=older_than)
    if not ops:
        return []
    readings = station.locks.read([as_compartment_id(op.compartment_id) for op in ops])
    settled = []
    with station.db.write() as session:
        for op in ops:
            assert op.id is not None
            current = session.get(DoorOp, op.id)
            if current is None or current.outcome is not None:
                continue  # its own opening finished meanwhile
            reading = readings.get(as_compartment_id(op.compartment_id))
            verdict = _verdict(op, reading)
            _apply(session, station, op, verdict, reading)
            settled.append(Settled(op.id, op.compartment_id, verdict))
    return settled


def _verdict(op: DoorOp, reading: DoorReading | None) -> str:
    if reading is None:
        return UNKNOWN
    if not reading.latched:
        return OPENED
    if op.purpose in (DoorPurpose.STAFF, DoorPurpose.OPEN_ALL):
        return NOT_OPENED  # nothing depends on it; staff see the door closed
    if reading.occupied is None:
        return UNKNOWN
    if op.purpose is DoorPurpose.DEPOSIT:
        return OPENED if reading.occupied else NOT_OPENED
    return NOT_OPENED if reading.occupied else OPENED  # collect, take back: is it gone?


def _apply(
    session: Session, station: Station, op: DoorOp, verdict: str, reading: DoorReading | None
) -> None:
    now = station.now()
    row = session.get(DoorOp, op.id)
    assert row is not None
    row.outcome = f"{verdict} (reconciled)"
    row.finished_at = now
    session.add(row)
    record(
        session,
        actor="system",
        action=f"door.reconciled_{verdict}",
        now=now,
        compartment_id=op.compartment_id,
        detail=f"{op.purpose.value}: {reading}",
    )
    if verdict == UNKNOWN:
        set_condition(
            session,
            op.compartment_id,
            Condition.FAULT,
            actor="system",
            now=now,
            note=f"interrupted {op.purpose.value}: check the compartment's contents",
        )
        if op.purpose is DoorPurpose.DEPOSIT:  # it may hold the parcel: keep it held
            for pid in parcel_ids_of(op):
                parcel = get_parcel(session, pid)
                if parcel.state is ParcelState.RESERVED and parcel.door_opened_at is None:
                    parcel.door_opened_at = now
                    parcel.door_unconfirmed = True
                    session.add(parcel)
        return
    if verdict != OPENED:
        return
    for pid in parcel_ids_of(op):
        parcel = get_parcel(session, pid)
        if op.purpose is DoorPurpose.DEPOSIT and parcel.state is ParcelState.RESERVED:
            parcel.door_opened_at = now
            parcel.courier = op.actor
            session.add(parcel)
        elif op.purpose is DoorPurpose.COLLECT and parcel.state is ParcelState.STORED:
            hand_out(session, pid, actor=op.actor, now=now)
        elif op.purpose is DoorPurpose.TAKE_BACK and to_take_back(parcel):
            move(session, parcel, ParcelState.RETURNED, actor=op.actor, now=now)
            parcel.finished_at = now
            retire_spent_codes(session, pid, now=now)
