"""The append-only audit log: who did what, when, to which compartment and parcel.

Action names are dotted: ``parcel.<transition>`` (one per parcel transition),
``compartment.<condition>``, ``door.<outcome>``, ``code.rejected``, ``parcel.announced``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from locker.store.tables import AuditEntry


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


REFUSAL_BUCKET_S = 60  # a flood of refused tries: one row per client per minute


def refused(session: Session, *, actor: str, action: str, now: datetime, why: str) -> None:
    """Audit a try that was refused before anything was looked at (too many attempts, a
    door already busy). A flood of them must not bloat the log, so the tries of one
    client (``actor``) and one ``action`` in the same minute share one row, whose detail
    counts them: "3 × too_many_attempts". The first try of a minute appends the row; the
    following ones count it up (the only audit rows that change after they are written)."""
    bucket = now.replace(second=0, microsecond=0)
    row = session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.actor == actor,
            AuditEntry.action == action,
            col(AuditEntry.at) >= bucket,
            col(AuditEntry.at) < bucket + timedelta(seconds=REFUSAL_BUCKET_S),
        )
        .order_by(col(AuditEntry.id).desc())
    ).first()
    if row is None:
        record(session, actor=actor, action=action, now=now, detail=f"1 × {why}")
        return
    count = refusal_count(row.detail) + 1
    row.detail = f"{count} × {why}"
    session.add(row)


def refusal_count(detail: str) -> int:
    """How many tries a refusal row of :func:`refused` stands for."""
    head = detail.split(" × ", 1)[0]
    return int(head) if head.isdigit() else 1


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
