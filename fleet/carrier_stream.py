"""The carriers' stream: what happens to their parcels, told by signed webhooks.

Ingest writes a webhook row (:func:`parcel_changed`, :func:`reminded`) in the transaction
that applies the station's event (each event takes effect once), for a parcel of a carrier
that may use that station: ``parcel.stored``, ``parcel.reminder`` (and
``parcel.last_call``), ``parcel.collected``, ``parcel.expired``, ``parcel.returned``,
``parcel.lapsed`` (announced, never brought in: the hub's view of it is gone),
``parcel.paid`` (the amount and the way of payment: no card data, no payment secret).
:func:`deliver_due` (the workers) sends them, per carrier in the order they were written:
the oldest first, the next only once it was taken. A failure waits (growing, up to
``RETRY_MAX``) and blocks that carrier's stream only. Signed as a station's carrier
webhooks are (``X-Station-Signature``, :func:`locker.notify.messages.signature`). No
pickup code is in them: the hub has none.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import case
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from fleet.carriers import Clock
from fleet.db import HubDatabase
from fleet.tables import (
    CarrierAccount,
    CarrierAnnouncement,
    CarrierStation,
    CarrierWebhook,
    EventRow,
    ParcelView,
)
from locker.notify.senders import Poster, SendFailed
from locker.uplink.messages import ParcelFacts

STREAM = {"stored", "collected", "expired", "returned", "lapsed"}  # told to carriers

_LOG = logging.getLogger(__name__)


RETRY_FIRST = timedelta(seconds=1)


RETRY_MAX = timedelta(minutes=10)


def _carriers_of(session: Session, station: str, carrier: str) -> bool:
    return (
        session.get(CarrierStation, (carrier, station)) is not None
        and session.get(CarrierAccount, carrier) is not None
    )


def _facts(parcel: ParcelFacts) -> dict[str, Any]:
    return {
        "id": parcel.id,
        "tracking_number": parcel.tracking_number,
        "carrier": parcel.carrier,
        "state": parcel.state,
        "size": parcel.size,
        "compartment_id": parcel.compartment_id,
        "deadline": parcel.deadline.isoformat() if parcel.deadline else None,
    }


def _webhook(
    session: Session,
    row: EventRow,
    carrier: str,
    event: str,
    parcel: ParcelFacts,
    payment: dict[str, Any] | None = None,
) -> None:
    session.execute(
        insert(CarrierWebhook)
        .values(**webhook_values(row, carrier, event, parcel, payment))
        .on_conflict_do_nothing()
    )


class StationEvent(Protocol):
    """What a webhook needs of the event it comes of (an :class:`EventRow` or the like)."""

    @property
    def station(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def event_id(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def received_at(self) -> datetime: ...


def webhook_values(
    row: StationEvent,
    carrier: str,
    event: str,
    parcel: ParcelFacts,
    payment: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The webhook row that the event ``row`` makes for ``carrier`` (pending, due now).

    ``payment`` (a ``parcel.paid`` webhook's) is added to the body as its ``payment`` part.
    """
    body: dict[str, Any] = {
        "event": event,
        "event_id": row.event_id,
        "at": row.at.isoformat(),
        "station": row.station,
        "parcel": _facts(parcel),
        "state_then": parcel.state,
    }
    if payment is not None:
        body["payment"] = payment
    return {
        "carrier": carrier,
        "station": row.station,
        "event_seq": row.seq,
        "event": event,
        "body": body,
        "created_at": row.received_at,
        "state": "pending",
        "attempts": 0,
        "next_at": row.received_at,
    }


def parcel_changed(
    session: Session, row: EventRow, parcel: ParcelFacts, before: str | None
) -> None:
    """A parcel event applied: the carrier's announcement learns its state (and since
    when, if it changed), and a change into a state the stream tells of becomes a webhook."""
    table = CarrierAnnouncement.__table__  # type: ignore[attr-defined]
    session.execute(
        table.update()
        .where(
            table.c.carrier == parcel.carrier,
            table.c.tracking_number == parcel.tracking_number,
            table.c.station == row.station,
        )
        .values(
            parcel_id=parcel.id,
            parcel_state=parcel.state,
            parcel_since=case(
                (table.c.parcel_state.is_distinct_from(parcel.state), row.at),
                else_=table.c.parcel_since,
            ),
        )
    )
    if parcel.state == before or parcel.state not in STREAM:
        return
    if _carriers_of(session, row.station, parcel.carrier):
        _webhook(session, row, parcel.carrier, f"parcel.{parcel.state}", parcel)


class Reminder(ParcelFacts):
    reminder: Literal["reminder", "last_call"] = "reminder"


def reminded(session: Session, row: EventRow) -> None:
    reminder = Reminder.model_validate(row.data)
    if _carriers_of(session, row.station, reminder.carrier):
        _webhook(session, row, reminder.carrier, f"parcel.{reminder.reminder}", reminder)


class Paid(ParcelFacts):
    amount_cents: int
    currency: str
    method: str
    paid_at: datetime | None = None


def payment_of(facts: Paid) -> dict[str, Any]:
    """A ``parcel.paid`` webhook's ``payment`` part: the amount and the way only."""
    return {"amount_cents": facts.amount_cents, "currency": facts.currency, "method": facts.method}


def paid(session: Session, row: EventRow) -> Paid:
    """A parcel was paid: ``parcel.paid`` to its carrier (the amount and the way; the hub
    never sees a card or a payment secret)."""
    facts = Paid.model_validate(row.data)
    if _carriers_of(session, row.station, facts.carrier):
        _webhook(session, row, facts.carrier, "parcel.paid", facts, payment=payment_of(facts))
    return facts


def before_state(session: Session, station: str, parcel_id: int) -> str | None:
    view = session.get(ParcelView, (station, parcel_id))
    return view.state if view is not None else None


def _wait(attempts: int) -> timedelta:
    factor: int = 2 ** min(attempts - 1, 20)
    return min(RETRY_MAX, RETRY_FIRST * factor)


def deliver_due(db: HubDatabase, poster: Poster, clock: Clock, *, batch: int = 200) -> int:
    """Send what is due, per carrier in order; how many went out. Each webhook is one
    transaction holding its carrier's row (``FOR UPDATE SKIP LOCKED``), so several workers
    never send one carrier's webhooks at once or out of order."""
    with db.transaction() as session:
        names = session.exec(
            select(CarrierWebhook.carrier)
            .where(CarrierWebhook.state == "pending", col(CarrierWebhook.next_at) <= clock())
            .distinct()
        ).all()
    sent = 0
    for name in names:
        for _ in range(batch):
            done = _send_next(db, poster, name, clock)
            if done is None:
                break
            sent += int(done)
            if not done:
                break
    return sent


def _send_next(db: HubDatabase, poster: Poster, carrier: str, clock: Clock) -> bool | None:
    """The carrier's oldest pending webhook, sent: True, failed: False, none due: None."""
    with db.transaction() as session:
        account = session.exec(
            select(CarrierAccount)
            .where(CarrierAccount.name == carrier)
            .with_for_update(skip_locked=True)
        ).first()
        if account is None or not account.webhook_url:
            return None
        head = session.exec(
            select(CarrierWebhook)
            .where(CarrierWebhook.carrier == carrier, CarrierWebhook.state == "pending")
            .order_by(col(CarrierWebhook.id))
            .limit(1)
        ).first()
        now = clock()
        if head is None or head.next_at > now:
            return None
        assert head.id is not None
        body = {**head.body, "delivery_id": head.id}
        try:
            poster.post(account.webhook_url, body, secret=account.signing_key, delivery_id=head.id)
        except SendFailed as exc:
            head.attempts += 1
            head.next_at = now + _wait(head.attempts)
            head.last_error = str(exc)[:500]
            _LOG.warning("webhook %s to %s failed (%s): %s", head.id, carrier, head.attempts, exc)
            return False
        head.state = "sent"
        head.sent_at = now
        head.attempts += 1
        head.last_error = None
        return True
