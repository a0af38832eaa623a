"""Events for the fleet hub, captured from the station's own write transactions.

When the station has a hub, every write session carries a :class:`Capture`. After each
flush it looks at what the flush changed (parcels, alerts, compartments, door operations)
and writes one outbox event per change **in the same transaction**, with a fresh id and
the next number of the station's sequence: a change and its event are committed together
or not at all, and the numbers have no gaps because every writer holds SQLite's write
lock (``BEGIN IMMEDIATE``) while it numbers. Without a hub nothing is captured and the
station runs as before.

Free capacity is not recounted here: a door operation's transactions write their own
events only. The uplink's sender recounts it once it has sent events that may change it
(:data:`RECOUNT_AFTER`, :func:`recount_capacity`), in a transaction of its own, and a
``capacity`` event follows when the count changed.

No recipient's name, address or code is put in an event: the hub needs the parcel's
state, not the person.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction
from sqlmodel import Session, col, select

from locker.layout import Layout
from locker.station import free_compartments, utcnow
from locker.store.db import Database
from locker.store.tables import Alert, Compartment, DoorOp, OutboxEvent, Parcel, UplinkState

HUB_EVENT = "hub."  # outbox events for the hub are named hub.<type>; the notifier skips them
PARCEL_FIELDS = ("state", "compartment_id", "deadline", "size", "amount_due_cents")
REMINDERS = frozenset({"parcel.reminder", "parcel.last_call"})  # outbox events for the hub
RECOUNT_AFTER = frozenset({"parcel", "compartment", "door"})  # events that may change capacity


@dataclass(frozen=True)
class Capture:
    """What the capture needs to know of the station: its name and its layout."""

    station: str
    layout: Layout


def parcel_facts(parcel: Parcel) -> dict[str, Any]:
    return {
        "id": parcel.id,
        "tracking_number": parcel.tracking_number,
        "carrier": parcel.carrier,
        "state": parcel.state.value,
        "size": parcel.size.value if parcel.size else None,
        "compartment_id": parcel.compartment_id,
        "deadline": parcel.deadline.isoformat() if parcel.deadline else None,
        "accessible": parcel.needs_accessible,
        "amount_due": parcel.amount_due_cents,
    }


def capacity(session: Session, layout: Layout) -> dict[str, Any]:
    """Free compartments per size (and those of them that are accessible); with cooled
    compartments, the free ones of each cold kind per size too (a group out of its band
    has none free), which the hub routes cold parcels by."""
    free = free_compartments(session, layout)
    found: dict[str, Any] = {
        "free": dict(sorted(Counter(spec.size.value for spec in free).items())),
        "accessible_free": dict(
            sorted(Counter(spec.size.value for spec in free if spec.accessible).items())
        ),
    }
    kinds = sorted({spec.cold.value for spec in layout.compartments if spec.cold is not None})
    if kinds:
        found["cold_free"] = {
            kind: dict(
                sorted(Counter(s.size.value for s in free if s.cold and s.cold == kind).items())
            )
            for kind in kinds
        }
    return found


def refresh_capacity(session: Session, now: datetime) -> None:
    """A capacity event if free capacity changed for a reason the capture does not see
    (a cold group closing or opening); nothing without a hub."""
    capture = session.info.get("capture")
    if isinstance(capture, Capture):
        session.flush()
        free = capacity(session, capture.layout)
        if last_hub_event(session, "capacity") != free:
            record_hub_event(session, "capacity", free, now=now)


def recount_capacity(db: Database, layout: Layout) -> bool:
    """Count free capacity and write a ``capacity`` event if it is not the last one sent;
    whether one was written. Read first (most recounts find nothing new), then checked
    again under the write lock (another writer may have moved it meanwhile)."""
    with db.read() as session:
        if last_hub_event(session, "capacity") == capacity(session, layout):
            return False
    with db.write() as session:
        free = capacity(session, layout)
        if last_hub_event(session, "capacity") == free:
            return False
        record_hub_event(session, "capacity", free, now=utcnow())
    return True


def next_seq(session: Session) -> int:
    """One above the newest number ever used: the newest event is never pruned, and the
    broker's acknowledged point is a floor as well."""
    newest = session.exec(select(sa.func.max(OutboxEvent.hub_seq))).one()
    acked = session.exec(select(UplinkState.acked_seq)).first()
    return max(int(newest or 0), int(acked or 0)) + 1


def last_hub_event(session: Session, kind: str) -> dict[str, Any] | None:
    row = session.exec(
        select(OutboxEvent.detail)
        .where(OutboxEvent.event == HUB_EVENT + kind, col(OutboxEvent.hub_seq).is_not(None))
        .order_by(col(OutboxEvent.hub_seq).desc())
        .limit(1)
    ).first()
    return json.loads(row) if row else None


def record_hub_event(session: Session, kind: str, data: Mapping[str, Any], *, now: datetime) -> int:
    """Write one hub event in the caller's transaction; its sequence number.

    Inserted with a statement of its own, so it can be written while a flush is under way
    (from the capture) as well as from any write transaction (bus health)."""
    seq = next_seq(session)
    session.info["hub_events"] = True  # the uplink is woken once this commits
    session.connection().execute(
        sa.insert(OutboxEvent.__table__).values(  # type: ignore[attr-defined]
            at=now,
            event=HUB_EVENT + kind,
            detail=json.dumps(dict(data), sort_keys=True, default=str),
            expanded=True,  # nobody is to be told by mail or webhook
            hub_seq=seq,
            uid=uuid.uuid4().hex,
        )
    )
    return seq


def _changed(obj: object, fields: Iterable[str]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _changes(session: OrmSession) -> list[tuple[str, dict[str, Any]]]:
    """The hub events of one flush, in a stable order."""
    found: list[tuple[str, dict[str, Any]]] = []
    for obj in [*session.new, *session.dirty]:
        new = obj in session.new
        if isinstance(obj, Parcel) and (new or _changed(obj, PARCEL_FIELDS)):
            found.append(("parcel", parcel_facts(obj)))
        elif isinstance(obj, Alert):
            facts: dict[str, Any] = {"kind": obj.kind.value, "compartment_id": obj.compartment_id}
            if obj.cold_group is not None:  # a cold group's alert names its group
                facts["cold_group"] = obj.cold_group
            if new:
                found.append(("alert.raised", {**facts, "detail": obj.detail}))
            elif obj.cleared_at is not None and _changed(obj, ("cleared_at",)):
                found.append(("alert.cleared", facts))
        elif isinstance(obj, Compartment) and (new or _changed(obj, ("condition",))):
            found.append(
                ("compartment", {"compartment_id": obj.id, "condition": obj.condition.value})
            )
        elif isinstance(obj, OutboxEvent) and new and obj.event in REMINDERS:
            reminded = session.get(Parcel, obj.parcel_id) if obj.parcel_id else None
            if reminded is not None:  # the carrier's stream on the hub tells of reminders
                kind = obj.event.removeprefix("parcel.")
                found.append(("reminder", {**parcel_facts(reminded), "reminder": kind}))
        elif isinstance(obj, OutboxEvent) and new and obj.event == "parcel.paid":
            paid = session.get(Parcel, obj.parcel_id) if obj.parcel_id else None
            if paid is not None:  # the amount and the way only: no payment id, no secret
                facts = json.loads(obj.detail or "{}")
                money = {k: facts.get(k) for k in ("amount_cents", "currency", "method")}
                found.append(
                    ("paid", {**parcel_facts(paid), **money, "paid_at": facts.get("approved_at")})
                )
        elif isinstance(obj, DoorOp) and obj.outcome is not None and _changed(obj, ("outcome",)):
            found.append(
                (
                    "door",
                    {
                        "compartment_id": obj.compartment_id,
                        "purpose": obj.purpose.value,
                        "outcome": obj.outcome,
                    },
                )
            )
    order = {
        "compartment": 0,
        "parcel": 1,
        "door": 2,
        "alert.raised": 3,
        "alert.cleared": 4,
        "reminder": 5,
        "paid": 6,
    }
    return sorted(
        found,
        key=lambda item: (order[item[0]], item[1].get("id") or item[1].get("compartment_id") or 0),
    )


def _after_flush(session: OrmSession, _context: UOWTransaction) -> None:
    capture = session.info.get("capture")
    if not isinstance(capture, Capture):
        return
    changes = _changes(session)
    if not changes:
        return
    assert isinstance(session, Session)
    now = utcnow()
    with session.no_autoflush:
        for kind, data in changes:
            record_hub_event(session, kind, data, now=now)


event.listen(OrmSession, "after_flush", _after_flush)
