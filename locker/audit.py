"""The append-only audit log: who did what, when, to which compartment and parcel.

Action names are dotted: ``parcel.<transition>`` (one per parcel transition),
``compartment.<condition>``, ``door.<outcome>``, ``code.rejected``, ``parcel.announced``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from locker.tables import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    now: datetime,
    compartment_id: int | None = None,
    parcel_id: int | None = None,
    detail: str = "",
) -> None:
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            compartment_id=compartment_id,
            parcel_id=parcel_id,
            detail=detail,
        )
    )


def entries(
    session: Session,
    *,
    parcel_id: int | None = None,
    compartment_id: int | None = None,
    action_prefix: str | None = None,
    limit: int = 1000,
) -> Sequence[AuditEntry]:
    """Audit rows, oldest first, filtered by parcel, compartment or action prefix."""
    query = select(AuditEntry)
    if parcel_id is not None:
        query = query.where(AuditEntry.parcel_id == parcel_id)
    if compartment_id is not None:
        query = query.where(AuditEntry.compartment_id == compartment_id)
    if action_prefix is not None:
        query = query.where(col(AuditEntry.action).startswith(action_prefix))
    return session.exec(query.order_by(col(AuditEntry.id)).limit(limit)).all()
