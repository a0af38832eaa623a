"""The station as the services see it: layout, database, doors, code key, policy, clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from locker.alerts import clear_alerts, raise_alert
from locker.audit import record
from locker.codes import DEFAULT_PIN_DIGITS, CodeHasher
from locker.cold.tables import open_cold_groups
from locker.errors import NotFound, StationMisconfigured
from locker.layout import CompartmentSpec, Layout
from locker.locks import Locks
from locker.people.attempts import AttemptPolicy
from locker.sensors import Thermometer
from locker.store.db import Database
from locker.store.tables import ACTIVE_PARCEL_STATES, Compartment, DoorOp, Parcel
from locker.types import (
    AlertKind,
    ColdKind,
    CompartmentId,
    CompartmentState,
    Condition,
    Occupancy,
    ParcelState,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Policy:
    pin_digits: int = DEFAULT_PIN_DIGITS
    reservation_ttl: timedelta = timedelta(minutes=15)
    pickup_period: timedelta = timedelta(days=7)
    announcement_expiry: timedelta = timedelta(days=7)  # announced, never brought: lapsed
    attempts: AttemptPolicy = field(default_factory=AttemptPolicy)
    # Past this many staff door openings within the window, a second staff member (or an
    # admin) must confirm each further one.
    staff_open_limit: int = 5
    staff_open_window: timedelta = timedelta(minutes=10)
    currency: str = "EUR"  # of amounts due (pay at pick-up)
    # Cold parcels wait less (settings chilled_hours, frozen_hours), and a cold group out of
    # its band for this long raises its alert and takes no new parcels.
    chilled_period: timedelta = timedelta(hours=24)
    frozen_period: timedelta = timedelta(hours=12)
    cold_out_of_band_after: timedelta = timedelta(minutes=10)

    def period_for(self, cold: ColdKind | None) -> timedelta:
        """How long a parcel of this kind waits for its recipient."""
        if cold is ColdKind.CHILLED:
            return min(self.pickup_period, self.chilled_period)
        if cold is ColdKind.FROZEN:
            return min(self.pickup_period, self.frozen_period)
        return self.pickup_period


@dataclass
class Station:
    layout: Layout
    db: Database
    locks: Locks
    hasher: CodeHasher
    policy: Policy = field(default_factory=Policy)
    clock: Callable[[], datetime] = utcnow
    # The cold groups' thermometers by [[sensor]] id (the layout's); empty: none answers.
    thermometers: Mapping[str, Thermometer] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()


def sync_layout(station: Station) -> None:
    """Make the compartment rows match the layout, refusing to drop one that holds a parcel."""
    now = station.now()
    wanted: set[int] = {spec.id for spec in station.layout.compartments}
    with station.db.write() as session:
        rows = {row.id: row for row in session.exec(select(Compartment)).all()}
        held = occupancy_by_compartment(session)
        problems = [
            f"compartment {cid} holds parcel {held[cid][1]} but is missing from the layout"
            for cid in rows
            if cid not in wanted and cid in held and not rows[cid].retired
        ]
        if problems:
            raise StationMisconfigured("; ".join(problems))
        for cid in sorted(wanted - rows.keys()):
            session.add(Compartment(id=cid))
            record(session, actor="system", action="compartment.added", now=now, compartment_id=cid)
        for cid, row in rows.items():
            if row.retired == (cid in wanted):
                row.retired = cid not in wanted
                session.add(row)
                action = "compartment.retired" if row.retired else "compartment.restored"
                record(session, actor="system", action=action, now=now, compartment_id=cid)


def occupancy_by_compartment(session: Session) -> dict[int, tuple[Occupancy, int]]:
    """What each compartment holds: (reserved or occupied, parcel id); free ones are absent."""
    query = select(Parcel.compartment_id, Parcel.state, Parcel.id, Parcel.beside_parcel_id).where(
        col(Parcel.state).in_(ACTIVE_PARCEL_STATES), col(Parcel.compartment_id).is_not(None)
    )
    result: dict[int, tuple[Occupancy, int]] = {}
    for cid, state, pid, beside in session.exec(query).all():
        assert cid is not None
        assert pid is not None
        if beside is not None and cid in result:
            continue  # a parcel beside another: the compartment is named by the first one
        kind = Occupancy.RESERVED if state == ParcelState.RESERVED else Occupancy.OCCUPIED
        result[cid] = (kind, pid)
    return result


def compartment_row(session: Session, cid: int) -> Compartment:
    row = session.get(Compartment, cid)
    if row is None or row.retired:
        raise NotFound("compartment", cid)
    return row


def compartment_state(session: Session, cid: int) -> CompartmentState:
    row = compartment_row(session, cid)
    held = occupancy_by_compartment(session).get(cid)
    return CompartmentState.of(held[0] if held else Occupancy.FREE, row.condition)


def compartment_states(session: Session) -> dict[int, CompartmentState]:
    """Every compartment in service and its state, in two queries (the console's front
    asks for all of them at start-up: one query each was a tenth of a small computer's
    start)."""
    held = occupancy_by_compartment(session)
    rows = session.exec(select(Compartment).where(col(Compartment.retired).is_(False))).all()
    return {
        row.id: CompartmentState.of(
            held[row.id][0] if row.id in held else Occupancy.FREE, row.condition
        )
        for row in rows
    }


def free_compartments(session: Session, layout: Layout) -> list[CompartmentSpec]:
    """Compartments in service that hold nothing and have no door operation under way; a
    cold group takes new parcels only while its last verdict is "in band" (not out of band,
    not silent, not unread since it came into the layout)."""
    usable = set(
        session.exec(
            select(Compartment.id).where(
                Compartment.condition == Condition.OK, col(Compartment.retired).is_(False)
            )
        ).all()
    )
    taken = occupancy_by_compartment(session).keys() | busy_doors(session)
    cold_open = open_cold_groups(session)
    return [
        spec
        for spec in layout.compartments
        if spec.id in usable
        and spec.id not in taken
        and (spec.cold_group is None or spec.cold_group in cold_open)
    ]


def busy_doors(session: Session) -> set[int]:
    """Compartments with a door intent still waiting for its outcome."""
    query = select(DoorOp.compartment_id).where(col(DoorOp.outcome).is_(None))
    return set(session.exec(query).all())


def get_parcel(session: Session, parcel_id: int) -> Parcel:
    parcel = session.get(Parcel, parcel_id)
    if parcel is None:
        raise NotFound("parcel", parcel_id)
    return parcel


def as_compartment_id(value: int) -> CompartmentId:
    return CompartmentId(value)


def set_condition(
    session: Session, cid: int, condition: Condition, *, actor: str, now: datetime, note: str = ""
) -> bool:
    """Change a compartment's condition and audit it; False when it already was so."""
    row = compartment_row(session, cid)
    if row.condition == condition:
        return False
    row.condition = condition
    row.note = note
    session.add(row)
    if condition is Condition.FAULT:
        raise_alert(session, AlertKind.DOOR_FAULT, compartment_id=cid, now=now, detail=note)
    elif condition is Condition.OK:
        clear_alerts(session, AlertKind.DOOR_FAULT, compartment_id=cid, now=now)
    record(
        session,
        actor=actor,
        action=f"compartment.{condition.value}",
        now=now,
        compartment_id=cid,
        detail=note,
    )
    return True
