"""The three steps of a door opening: intent, pulse, outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from locker.audit import record
from locker.errors import DoorBusy
from locker.locks import DoorOutcome
from locker.runtime.journal import fields
from locker.station import Station, as_compartment_id, busy_doors, set_condition
from locker.store.tables import DoorOp
from locker.testkit import crashpoints
from locker.types import Condition, DoorPurpose

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class DoorResult:
    """One door a service tried to open, and for which parcels."""

    compartment_id: int
    outcome: DoorOutcome
    parcel_ids: tuple[int, ...] = ()

    @property
    def opened(self) -> bool:
        return self.outcome is DoorOutcome.OPENED


def begin(
    session: Session,
    *,
    compartment_id: int,
    purpose: DoorPurpose,
    actor: str,
    now: datetime,
    parcel_ids: tuple[int, ...] = (),
    reason: str = "",
) -> int:
    """Step 1: add the intent row (the caller commits it before the pulse)."""
    if compartment_id in busy_doors(session):
        raise DoorBusy(f"compartment {compartment_id} is already being opened")
    op = DoorOp(
        compartment_id=compartment_id,
        purpose=purpose,
        parcel_ids=",".join(str(p) for p in parcel_ids),
        actor=actor,
        reason=reason,
        created_at=now,
    )
    session.add(op)
    session.flush()
    assert op.id is not None
    crashpoints.reached(crashpoints.BEFORE_INTENT_COMMIT)
    return op.id


def pulse(station: Station, compartment_id: int) -> DoorOutcome:
    """Step 2: ask the hardware. ``Locks`` reports outcomes, but nothing may escape here.

    Every caller commits the intent just before (hence the crash point here).
    """
    crashpoints.reached(crashpoints.AFTER_INTENT_COMMIT)
    try:
        return station.locks.open(as_compartment_id(compartment_id))
    except Exception:
        _LOGGER.exception(
            "opening compartment %s raised; treating the door as unknown", compartment_id
        )
        return DoorOutcome.UNKNOWN


def finish(
    session: Session,
    op_id: int,
    outcome: DoorOutcome,
    *,
    now: datetime,
    note: str = "",
    bus: str | None = None,
) -> DoorOp:
    """Step 3: record the outcome; a door that did not open puts its compartment at fault.
    Logged with the compartment, its bus and the parcel (if it was opened for one)."""
    op = session.get(DoorOp, op_id)
    assert op is not None, f"door intent {op_id} vanished"
    op.outcome = outcome.value
    op.finished_at = now
    session.add(op)
    parcel_id = _the_parcel(op)
    _LOGGER.log(
        logging.INFO if outcome is DoorOutcome.OPENED else logging.WARNING,
        "compartment %s: door %s for %s",
        op.compartment_id,
        outcome.value,
        op.purpose.value,
        extra=fields(bus=bus, compartment=op.compartment_id, parcel=parcel_id),
    )
    record(
        session,
        actor=op.actor,
        action=f"door.{outcome.value}",
        now=now,
        compartment_id=op.compartment_id,
        parcel_id=parcel_id,
        detail=f"{op.purpose.value}{': ' + op.reason if op.reason else ''}{note}",
    )
    if outcome is not DoorOutcome.OPENED:
        set_condition(
            session,
            op.compartment_id,
            Condition.FAULT,
            actor="system",
            now=now,
            note=f"door did not open ({outcome.value}) for {op.purpose.value}",
        )
    return op


def _the_parcel(op: DoorOp) -> int | None:
    """The parcel behind a door's opening, if it was opened for exactly one."""
    ids = parcel_ids_of(op)
    return ids[0] if len(ids) == 1 else None


# The door may or may not have opened: nothing could be read back.
UNCERTAIN = frozenset({DoorOutcome.NO_ANSWER, DoorOutcome.UNKNOWN})


def changed_during_opening(
    session: Session, compartment_id: int, parcel_id: int, *, now: datetime
) -> None:
    """A parcel is no longer in the state its door was opened for (something raced the
    opening): nothing is guessed; the compartment is put at fault for staff to check."""
    _LOGGER.warning("parcel %s changed while compartment %s was opening", parcel_id, compartment_id)
    set_condition(
        session,
        compartment_id,
        Condition.FAULT,
        actor="system",
        now=now,
        note=f"parcel {parcel_id} changed while its door was opening: check the contents",
    )


Target = tuple[int, tuple[int, ...]]  # the compartment to open, and for which parcels
Settle = Callable[[Session, DoorOutcome, datetime], None]


def operate(
    station: Station,
    *,
    purpose: DoorPurpose,
    actor: str,
    target: Callable[[Session], Target],
    settle: Settle | None = None,
    reason: str = "",
) -> DoorResult:
    """One door opening in three steps.

    ``target`` checks, inside the intent's transaction, that the opening is allowed and
    names the compartment; ``settle`` applies, inside the outcome's transaction, what
    the outcome means for the parcels (a door that did not open is already at fault).
    """
    now = station.now()
    with station.db.write() as session:
        compartment_id, parcel_ids = target(session)
        op_id = begin(
            session,
            compartment_id=compartment_id,
            purpose=purpose,
            actor=actor,
            now=now,
            parcel_ids=parcel_ids,
            reason=reason,
        )
    outcome = pulse(station, compartment_id)
    now = station.now()
    with station.db.write() as session:
        finish(session, op_id, outcome, now=now, bus=bus_of(station, compartment_id))
        if settle is not None:
            settle(session, outcome, now)
    crashpoints.reached(crashpoints.AFTER_OUTCOME_COMMIT)
    return DoorResult(compartment_id, outcome, parcel_ids)


def bus_of(station: Station, compartment_id: int) -> str:
    return station.layout.compartment(as_compartment_id(compartment_id)).bus


def parcel_ids_of(op: DoorOp) -> tuple[int, ...]:
    return tuple(int(p) for p in op.parcel_ids.split(",") if p)
