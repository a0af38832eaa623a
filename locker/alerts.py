"""Alerts: conditions staff must look at, raised and cleared by the station itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from locker.audit import record
from locker.notify.outbox import record_event
from locker.store.tables import Alert
from locker.types import AlertKind


def raise_alert(
    session: Session,
    kind: AlertKind,
    *,
    compartment_id: int | None,
    now: datetime,
    detail: str,
    cold_group: str | None = None,
) -> bool:
    """Open an alert unless the same one is open already; True when a new one was raised.
    A cold group's alert names its group (and no compartment)."""
    query = select(Alert.id).where(Alert.kind == kind, col(Alert.cleared_at).is_(None))
    if compartment_id is not None:
        query = query.where(Alert.compartment_id == compartment_id)
    if cold_group is not None:
        query = query.where(Alert.cold_group == cold_group)
    if session.exec(query).first() is not None:
        return False
    session.add(
        Alert(
            kind=kind,
            compartment_id=compartment_id,
            cold_group=cold_group,
            detail=detail,
            raised_at=now,
        )
    )
    facts = {"text": detail} if cold_group is None else {"text": detail, "cold_group": cold_group}
    record_event(  # staff hear of it at once, by mail and the shop's webhook
        session, f"alert.{kind.value}", now=now, compartment_id=compartment_id, detail=facts
    )
    record(
        session,
        actor="system",
        action=f"alert.{kind.value}",
        now=now,
        compartment_id=compartment_id,
        detail=detail,
    )
    return True


def clear_alerts(
    session: Session,
    kind: AlertKind,
    *,
    compartment_id: int | None,
    now: datetime,
    cold_group: str | None = None,
) -> int:
    """Close the open alerts of this kind on a compartment (None: the station's own, of no
    compartment), or of a cold group; how many were open."""
    where = (
        col(Alert.compartment_id).is_(None)
        if compartment_id is None
        else col(Alert.compartment_id) == compartment_id
    )
    query = select(Alert).where(Alert.kind == kind, where, col(Alert.cleared_at).is_(None))
    if cold_group is not None:
        query = query.where(Alert.cold_group == cold_group)
    rows = session.exec(query).all()
    for row in rows:
        row.cleared_at = now
        session.add(row)
    return len(rows)


def clear_station_alerts(session: Session, kind: AlertKind, *, now: datetime) -> int:
    """Close the open station-wide alerts (no compartment) of this kind; how many."""
    rows = session.exec(
        select(Alert).where(
            Alert.kind == kind,
            col(Alert.compartment_id).is_(None),
            col(Alert.cleared_at).is_(None),
        )
    ).all()
    for row in rows:
        row.cleared_at = now
        session.add(row)
    return len(rows)


def open_alerts(session: Session) -> Sequence[Alert]:
    return session.exec(
        select(Alert).where(col(Alert.cleared_at).is_(None)).order_by(col(Alert.id))
    ).all()
