"""The outbox: events written in the transaction of the change they tell of, and their
deliveries, one per recipient and channel, each sent until it is through.

An event is never lost: it is committed with the change, or neither is. A delivery is
claimed for a while (``LEASE``) before its message goes out and marked sent after, so a
crash in between sends it once more when the claim runs out: at most one duplicate per
crash, and only there. Mail carries the delivery's id as its Message-ID and a webhook
as ``X-Station-Delivery``, so a receiver can drop that duplicate.

Events whose deliveries are all through (sent, skipped, given up) are removed with
them once they are older than the retention (``LOCKER_OUTBOX_RETENTION_DAYS``); one still
to be expanded or with a delivery pending is never removed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, delete, func, or_, select

from locker.store.tables import Delivery, OutboxEvent, Parcel, UplinkState
from locker.types import Channel, DeliveryState, ParcelState

LEASE = timedelta(seconds=60)  # how long one attempt may take before another may begin
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)


def record_event(
    session: Session,
    event: str,
    *,
    now: datetime,
    parcel: Parcel | None = None,
    compartment_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
    sealed: str | None = None,
    key: str | None = None,
) -> bool:
    """Write an event in the caller's transaction; with ``key``, only the first time."""
    if (
        key is not None
        and session.exec(select(OutboxEvent.id).where(OutboxEvent.key == key)).first()
    ):
        return False
    facts: dict[str, Any] = dict(detail or {})
    if parcel is not None:
        facts.setdefault("state", parcel.state.value)
        facts.setdefault("deadline", parcel.deadline.isoformat() if parcel.deadline else None)
        if parcel.recipient_unknown:  # told to nobody, also once a person is assigned
            facts.setdefault("for_nobody", True)
    session.add(
        OutboxEvent(
            at=now,
            event=event,
            key=key,
            parcel_id=parcel.id if parcel is not None else None,
            compartment_id=compartment_id
            if compartment_id is not None
            else (parcel.compartment_id if parcel is not None else None),
            detail=json.dumps(facts, sort_keys=True),
            sealed=sealed,
        )
    )
    return True


@dataclass(frozen=True)
class Target:
    channel: Channel
    recipient: str


def add_deliveries(
    session: Session, event: OutboxEvent, targets: Sequence[Target], *, now: datetime
) -> int:
    """The event's deliveries (none twice for one recipient and channel); marks it expanded."""
    assert event.id is not None
    made = 0
    for target in targets:
        dedup = f"{event.id}:{target.channel.value}:{target.recipient}"
        exists = session.exec(select(Delivery.id).where(Delivery.dedup_key == dedup)).first()
        if exists is None:
            session.add(
                Delivery(
                    event_id=event.id,
                    channel=target.channel,
                    recipient=target.recipient,
                    dedup_key=dedup,
                    next_attempt_at=now,
                )
            )
            made += 1
    event.expanded = True
    if not targets:
        event.sealed = None  # nobody to tell (no mail, no webhook): the code is not kept
    session.add(event)
    return made


def unexpanded(session: Session, limit: int = 100) -> Sequence[OutboxEvent]:
    return session.exec(
        select(OutboxEvent)
        .where(col(OutboxEvent.expanded).is_(False))
        .order_by(col(OutboxEvent.id))
        .limit(limit)
    ).all()


def _due(now: datetime) -> Any:
    return (
        Delivery.state == DeliveryState.PENDING,
        col(Delivery.next_attempt_at) <= now,
        or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) <= now),
    )


def has_work(session: Session, *, now: datetime) -> bool:
    """Whether an event waits to be expanded or a delivery is due: read first, so an idle
    round takes no write lock from the doors."""
    fresh = session.exec(
        select(OutboxEvent.id).where(col(OutboxEvent.expanded).is_(False)).limit(1)
    ).first()
    return (
        fresh is not None
        or session.exec(select(Delivery.id).where(*_due(now)).limit(1)).first() is not None
    )


def claim_next(session: Session, *, now: datetime, token: str) -> Delivery | None:
    """The next delivery due and not held by a live attempt, claimed for attempt ``token``
    just before it is sent (one at a time: no claim waits behind other sends)."""
    delivery = session.exec(
        select(Delivery)
        .where(*_due(now))
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
        .limit(1)
    ).first()
    if delivery is None:
        return None
    delivery.claimed_until = now + LEASE
    delivery.claim = token
    delivery.attempts += 1
    session.add(delivery)
    return delivery


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 30 s, 1 min, 2 min, … up to 1 h."""
    return min(MAX_DELAY, BASE_DELAY * (1 << min(max(attempts - 1, 0), 20)))


def _held(session: Session, delivery_id: int, token: str) -> Delivery | None:
    """The delivery, if attempt ``token`` still holds it (no one else took it over)."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.state is not DeliveryState.PENDING or delivery.claim != token:
        return None
    return delivery


def mark_sent(session: Session, delivery_id: int, *, now: datetime, token: str) -> bool:
    delivery = _held(session, delivery_id, token)
    if delivery is None:
        return False
    delivery.state = DeliveryState.SENT
    delivery.sent_at = now
    delivery.claimed_until = None
    delivery.claim = None
    delivery.last_error = ""
    session.add(delivery)
    return True


def mark_skipped(session: Session, delivery_id: int, *, token: str) -> bool:
    delivery = _held(session, delivery_id, token)
    if delivery is None:
        return False
    delivery.state = DeliveryState.SKIPPED
    delivery.claimed_until = None
    delivery.claim = None
    session.add(delivery)
    return True


def mark_failed(
    session: Session, delivery_id: int, *, now: datetime, error: str, give_up: bool, token: str
) -> Delivery | None:
    """Another try later, or none (``give_up``); the delivery, or None if this attempt no
    longer holds it."""
    delivery = _held(session, delivery_id, token)
    if delivery is None:
        return None
    delivery.last_error = error[:500]
    delivery.claimed_until = None
    delivery.claim = None
    if give_up:
        delivery.state = DeliveryState.GAVE_UP
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    session.add(delivery)
    return delivery


def scrub_spent_codes(session: Session) -> int:
    """Erase sealed codes whose deliveries are all through, or whose parcel left the
    compartment (the code opens nothing any more); how many were erased."""
    erased = 0
    for event in session.exec(
        select(OutboxEvent).where(
            col(OutboxEvent.sealed).is_not(None), col(OutboxEvent.expanded).is_(True)
        )
    ).all():
        pending = session.exec(
            select(Delivery.id).where(
                Delivery.event_id == event.id, Delivery.state == DeliveryState.PENDING
            )
        ).first()
        parcel = session.get(Parcel, event.parcel_id) if event.parcel_id else None
        spent = parcel is None or parcel.state.value not in ("stored", "expired")
        if pending is None or spent:
            event.sealed = None
            session.add(event)
            erased += 1
    return erased


PRUNE_BATCH = 500  # events removed in one transaction (the doors wait for no long one)


def prune(session: Session, *, before: datetime, limit: int = PRUNE_BATCH) -> int:
    """Remove up to ``limit`` events written before ``before`` that are through, with their
    deliveries; how many events were removed.

    Kept: an event not yet expanded, one with a delivery still pending, and a keyed one
    (a reminder: its key makes it happen once) while its parcel is still stored, so it
    is not written again. The newest event and the one of the newest delivery are kept
    too: SQLite gives a new row the largest id plus one, and a delivery's id is the
    Message-ID and ``X-Station-Delivery`` a receiver drops duplicates by, so no id may
    be handed out twice.
    """
    pending = select(Delivery.event_id).where(Delivery.state == DeliveryState.PENDING)
    stored = select(Parcel.id).where(Parcel.state == ParcelState.STORED)
    newest = session.exec(select(func.max(OutboxEvent.id))).one()
    newest_delivery = session.exec(
        select(Delivery.event_id).order_by(col(Delivery.id).desc()).limit(1)
    ).first()
    # A fleet hub's events: kept until the broker has them, and the newest always (the
    # next one's number follows it; see locker.uplink.capture).
    acked = session.exec(select(UplinkState.acked_seq)).first() or 0
    newest_hub = session.exec(
        select(OutboxEvent.id).order_by(col(OutboxEvent.hub_seq).desc()).limit(1)
    ).first()
    unsent = select(OutboxEvent.id).where(col(OutboxEvent.hub_seq) > acked)
    kept = [i for i in (newest, newest_delivery, newest_hub) if i is not None]
    ids = list(
        session.exec(
            select(OutboxEvent.id)
            .where(
                col(OutboxEvent.at) < before,
                col(OutboxEvent.expanded).is_(True),
                col(OutboxEvent.id).not_in(pending),
                col(OutboxEvent.id).not_in(kept),
                col(OutboxEvent.id).not_in(unsent),
                or_(
                    col(OutboxEvent.key).is_(None),
                    col(OutboxEvent.parcel_id).is_(None),
                    col(OutboxEvent.parcel_id).not_in(stored),
                ),
            )
            .order_by(col(OutboxEvent.id))
            .limit(limit)
        ).all()
    )
    if not ids:
        return 0
    session.exec(delete(Delivery).where(col(Delivery.event_id).in_(ids)))
    session.exec(delete(OutboxEvent).where(col(OutboxEvent.id).in_(ids)))
    return len(ids)
