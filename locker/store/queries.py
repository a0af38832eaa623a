"""Read-only views for screens and the API: compartments, parcels and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, and_, col, or_, select

from locker.layout import CompartmentSpec, Layout
from locker.station import busy_doors, occupancy_by_compartment
from locker.store.tables import AuditEntry, Compartment, Parcel
from locker.types import CompartmentState, Condition, Occupancy, ParcelKind, ParcelState

MAX_PAGE = 500


@dataclass(frozen=True)
class CompartmentView:
    spec: CompartmentSpec
    state: CompartmentState
    condition: Condition
    note: str
    parcel_id: int | None
    door_busy: bool


def compartments(session: Session, layout: Layout) -> list[CompartmentView]:
    """Every compartment of the layout with its state, in layout order."""
    rows = {row.id: row for row in session.exec(select(Compartment)).all()}
    held = occupancy_by_compartment(session)
    busy = busy_doors(session)
    views = []
    for spec in layout.compartments:
        row = rows.get(spec.id)
        condition = row.condition if row else Condition.OK
        occupancy, parcel_id = held.get(spec.id, (Occupancy.FREE, None))
        views.append(
            CompartmentView(
                spec=spec,
                state=CompartmentState.of(occupancy, condition),
                condition=condition,
                note=row.note if row else "",
                parcel_id=parcel_id,
                door_busy=spec.id in busy,
            )
        )
    return views


@dataclass(frozen=True)
class ParcelFilter:
    states: tuple[ParcelState, ...] = ()
    carrier: str | None = None
    compartment_id: int | None = None
    text: str | None = None  # part of the tracking number or the recipient's name
    overdue_at: datetime | None = None  # only parcels whose deadline passed by then
    limit: int = 100
    offset: int = 0


def parcels(session: Session, where: ParcelFilter) -> Sequence[Parcel]:
    """Parcels matching the filter, newest first."""
    query = select(Parcel)
    if where.states:
        query = query.where(col(Parcel.state).in_(where.states))
    if where.carrier is not None:
        query = query.where(Parcel.carrier == where.carrier)
    if where.compartment_id is not None:
        query = query.where(Parcel.compartment_id == where.compartment_id)
    if where.text:
        pattern = f"%{_escape_like(where.text.strip())}%"
        query = query.where(
            or_(
                col(Parcel.tracking_number).ilike(pattern, escape="\\"),
                col(Parcel.recipient_name).ilike(pattern, escape="\\"),
            )
        )
    if where.overdue_at is not None:
        query = query.where(col(Parcel.deadline) <= where.overdue_at)
    limit = max(1, min(where.limit, MAX_PAGE))
    return session.exec(
        query.order_by(col(Parcel.id).desc()).offset(max(0, where.offset)).limit(limit)
    ).all()


def waiting_for_couriers(session: Session, carrier: str | None) -> Sequence[Parcel]:
    """What couriers take away (of one carrier, or all): expired deliveries and the returns
    customers dropped off, oldest first."""
    query = select(Parcel).where(
        or_(
            Parcel.state == ParcelState.EXPIRED,
            and_(Parcel.state == ParcelState.STORED, Parcel.kind == ParcelKind.RETURN),
        )
    )
    if carrier is not None:
        query = query.where(Parcel.carrier == carrier)
    return session.exec(query.order_by(col(Parcel.id)).limit(MAX_PAGE)).all()


@dataclass(frozen=True)
class AuditFilter:
    action_prefix: str | None = None
    actor: str | None = None
    parcel_id: int | None = None
    compartment_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None  # for paging backwards
    limit: int = 100


def audit(session: Session, where: AuditFilter) -> Sequence[AuditEntry]:
    """Audit rows matching the filter, newest first."""
    query = select(AuditEntry)
    if where.action_prefix:
        query = query.where(col(AuditEntry.action).startswith(where.action_prefix))
    if where.actor is not None:
        query = query.where(AuditEntry.actor == where.actor)
    if where.parcel_id is not None:
        query = query.where(AuditEntry.parcel_id == where.parcel_id)
    if where.compartment_id is not None:
        query = query.where(AuditEntry.compartment_id == where.compartment_id)
    if where.since is not None:
        query = query.where(col(AuditEntry.at) >= where.since)
    if where.until is not None:
        query = query.where(col(AuditEntry.at) < where.until)
    if where.before_id is not None:
        query = query.where(col(AuditEntry.id) < where.before_id)
    limit = max(1, min(where.limit, MAX_PAGE))
    return session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit)).all()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
