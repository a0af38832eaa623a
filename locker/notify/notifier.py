"""Working through the outbox: events become deliveries (who hears of what, over which
channel), and due deliveries are sent, retried with growing waits, or given up on after
``give_up_after`` with an alert for staff. Run by the station's background jobs."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from sqlmodel import Session

from locker.alerts import raise_alert
from locker.codes import PickupCode
from locker.notify import outbox
from locker.notify.carriers import carrier_secret
from locker.notify.config import NotifyConfig
from locker.notify.messages import (
    RECIPIENT_EVENTS,
    STAFF_PREFIX,
    Letter,
    parcel_facts,
    to_recipient,
    to_staff,
)
from locker.notify.outbox import Target
from locker.notify.sealing import Sealer
from locker.notify.senders import Mailer, Poster, SendFailed
from locker.payments import ledger
from locker.station import Station
from locker.store.tables import Carrier, CodeParcel, Delivery, OutboxEvent, Parcel, PickupCodeRow
from locker.types import AlertKind, Channel, DeliveryState, ParcelState

BATCH = 20  # deliveries one round sends at most
_LOGGER = logging.getLogger(__name__)
NEEDS_STORED = frozenset(
    {"code.issued", "parcel.reminder", "parcel.last_call", "parcel.cold_warning"}
)
NOT_STATE_CHANGES = frozenset({"parcel.reminder", "parcel.last_call", "parcel.cold_warning"})
SHOP_STAFF = "shop:staff"
PAID = "parcel.paid"  # a receipt to the recipient; the payment's facts to carriers
PAYMENT_FACTS = (
    "payment_id",
    "method",
    "amount_cents",
    "currency",
    "provider_ref",
    "receipt_number",
    "approved_at",
)


def _for_nobody_yet(event: OutboxEvent, parcel: Parcel) -> bool:
    """The parcel's recipient is unknown (staff have not assigned it), or was when the
    event happened: nobody hears of it, not even the person assigned later."""
    return parcel.recipient_unknown or bool(json.loads(event.detail or "{}").get("for_nobody"))


def recipient_channels(config: NotifyConfig, parcel: Parcel) -> list[str]:
    """How the recipient of ``parcel`` hears of it here: ``mail`` (a mail server is set
    and the parcel has an address), ``sms`` (the shop's webhook and a phone number); the
    channels a directory person chose. Empty: nobody can be told (or nobody is to be)."""
    if parcel.recipient_unknown:
        return []
    by = parcel.notify_by
    found = []
    if config.smtp is not None and parcel.recipient_email and by in (None, "mail", "both"):
        found.append("mail")
    if config.shop_webhook_url and parcel.recipient_phone and by in (None, "sms", "both"):
        found.append("sms")
    return found


@dataclass
class Report:
    expanded: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    gave_up: int = 0


class Skip(Exception):
    """Nothing left to tell: the parcel moved on before its message went out."""


@dataclass
class Notifier:
    station: Station
    config: NotifyConfig
    mailer: Mailer | None
    poster: Poster
    # Called after a message went out and before it is marked sent: lets a crash test
    # stop the process exactly there.
    after_send: Callable[[int], None] | None = None
    sealer: Sealer = field(init=False)

    def __post_init__(self) -> None:
        self.sealer = Sealer(self.station.hasher)

    # -- who hears of what -----------------------------------------------------------------
    def targets(self, session: Session, event: OutboxEvent) -> list[Target]:
        c = self.config
        found: list[Target] = []
        if event.event.startswith(STAFF_PREFIX):
            if c.smtp is not None and c.staff_email:
                found.append(Target(Channel.STAFF_EMAIL, c.staff_email))
            if c.shop_webhook_url:
                found.append(Target(Channel.SHOP_WEBHOOK, SHOP_STAFF))
            return found
        parcel = session.get(Parcel, event.parcel_id) if event.parcel_id else None
        if parcel is None:
            return found
        if event.event in RECIPIENT_EVENTS and not _for_nobody_yet(event, parcel):
            # A directory person's notify_by picks the channels; typed by hand (None): all.
            by = parcel.notify_by
            if c.smtp is not None and parcel.recipient_email and by in (None, "mail", "both"):
                found.append(Target(Channel.EMAIL, parcel.recipient_email))
            if c.shop_webhook_url and parcel.recipient_phone and by in (None, "sms", "both"):
                found.append(Target(Channel.SHOP_WEBHOOK, f"shop:{parcel.recipient_phone}"))
        if event.event.startswith("parcel.") and event.event not in NOT_STATE_CHANGES:
            carrier = session.get(Carrier, parcel.carrier)
            if carrier is not None and carrier.webhook_url:
                found.append(Target(Channel.CARRIER_WEBHOOK, carrier.name))
        return found

    def expand(self) -> int:
        now = self.station.now()
        made = 0
        with self.station.db.write() as session:
            for event in outbox.unexpanded(session):
                made += outbox.add_deliveries(session, event, self.targets(session, event), now=now)
        return made

    # -- sending -----------------------------------------------------------------------------
    def run_once(self, batch: int = BATCH) -> Report:
        """Expand new events, then send up to ``batch`` due deliveries, each claimed just
        before it is sent."""
        with self.station.db.read() as session:
            if not outbox.has_work(session, now=self.station.now()):
                return Report()  # most rounds: nothing to do, and no write lock taken
        report = Report(expanded=self.expand())
        for _ in range(batch):
            token = secrets.token_hex(8)
            with self.station.db.write() as session:
                claimed = outbox.claim_next(session, now=self.station.now(), token=token)
                delivery_id = claimed.id if claimed is not None else None
            if delivery_id is None:
                break
            self._attempt(delivery_id, token, report)
        if report.sent or report.skipped or report.failed:
            with self.station.db.write() as session:
                outbox.scrub_spent_codes(session)
        return report

    def prune(self, keep_for: timedelta) -> int:
        """Remove the events (and their deliveries) through and older than ``keep_for``,
        a batch per transaction; how many events were removed."""
        before = self.station.now() - keep_for
        removed = 0
        while True:
            with self.station.db.write() as session:
                batch = outbox.prune(session, before=before)
            removed += batch
            if batch < outbox.PRUNE_BATCH:
                return removed

    def _attempt(self, delivery_id: int, token: str, report: Report) -> None:
        try:
            self._send(delivery_id)
        except Skip:
            with self.station.db.write() as session:
                outbox.mark_skipped(session, delivery_id, token=token)
            report.skipped += 1
            return
        except SendFailed as exc:
            self._failed(delivery_id, token, str(exc), report)
            return
        except Exception as exc:  # a fault of ours (bad settings, a bug): retried, recorded
            _LOGGER.exception("delivery %s failed", delivery_id)
            self._failed(delivery_id, token, f"{type(exc).__name__}: {exc}", report)
            return
        if self.after_send is not None:
            self.after_send(delivery_id)
        with self.station.db.write() as session:
            outbox.mark_sent(session, delivery_id, now=self.station.now(), token=token)
        report.sent += 1

    def _failed(self, delivery_id: int, token: str, error: str, report: Report) -> None:
        now = self.station.now()
        with self.station.db.write() as session:
            row = session.get(Delivery, delivery_id)
            event = session.get(OutboxEvent, row.event_id) if row is not None else None
            give_up = event is not None and now - event.at >= self.config.give_up_after
            done = outbox.mark_failed(
                session, delivery_id, now=now, error=error, give_up=give_up, token=token
            )
            gave_up = done is not None and done.state is DeliveryState.GAVE_UP
            # Staff are told of a message given up on, unless it was itself an alert to
            # them (a failing alert channel must not feed itself).
            staff_message = event is not None and event.event.startswith(STAFF_PREFIX)
            if gave_up and done is not None and event is not None and not staff_message:
                raise_alert(
                    session,
                    AlertKind.NOTIFICATION_FAILED,
                    compartment_id=None,
                    now=now,
                    detail=f"a {event.event} message ({done.channel.value}) could not be "
                    f"sent for {self.config.give_up_after}",
                )
        report.failed += 1
        report.gave_up += int(gave_up)

    def _send(self, delivery_id: int) -> None:
        with self.station.db.read() as session:
            delivery = session.get(Delivery, delivery_id)
            assert delivery is not None
            event = session.get(OutboxEvent, delivery.event_id)
            assert event is not None
            parcel = session.get(Parcel, event.parcel_id) if event.parcel_id else None
            carrier = (
                session.get(Carrier, delivery.recipient)
                if delivery.channel is Channel.CARRIER_WEBHOOK
                else None
            )
            due = (
                parcel is not None
                and event.event in NEEDS_STORED
                and not ledger.paid(session, parcel)
            )
        facts = json.loads(event.detail or "{}")
        header = {
            "event": event.event,
            "event_id": event.id,
            "delivery_id": delivery_id,
            "at": event.at.isoformat(),
            "station": self.config.station_name,
        }
        if delivery.channel is Channel.CARRIER_WEBHOOK:
            if carrier is None or not carrier.webhook_url or parcel is None:
                raise Skip
            body = {**header, "parcel": parcel_facts(parcel), "state_then": facts.get("state")}
            if event.event == PAID:  # what was paid, never how (no card data is kept)
                body["payment"] = {k: facts.get(k) for k in PAYMENT_FACTS}
            secret = carrier_secret(self.station.hasher, carrier.name, carrier.secret_version)
            self.poster.post(carrier.webhook_url, body, secret=secret, delivery_id=delivery_id)
            return
        if event.event.startswith(STAFF_PREFIX):
            letter = to_staff(event.event, self.config, event.compartment_id, facts.get("text", ""))
            self._deliver(delivery, letter, {**header, "to": {"role": "staff"}})
            return
        if parcel is None:
            raise Skip
        code = self._code_of(event, parcel)
        letter = to_recipient(
            event.event, parcel, self.config, self.station.hasher, code=code, facts=facts, due=due
        )
        to = {
            "name": parcel.recipient_name,
            "email": parcel.recipient_email,
            "phone": parcel.recipient_phone,
            "language": letter.language,
        }
        extra: dict[str, Any] = {"to": to, "parcel": parcel_facts(parcel)}
        if event.event == PAID:
            extra["payment"] = {k: facts.get(k) for k in PAYMENT_FACTS}
        if code is not None:
            extra["code"] = {"pin": code.pin, "qr_token": code.qr_token}
        self._deliver(delivery, letter, {**header, **extra})

    def _code_of(self, event: OutboxEvent, parcel: Parcel) -> PickupCode | None:
        if event.event in NEEDS_STORED and parcel.state is not ParcelState.STORED:
            raise Skip  # collected (or gone) before the message went out
        if event.event != "code.issued":
            return None
        code = self.sealer.unseal(event.sealed) if event.sealed else None
        if code is None:
            raise Skip  # erased: the code opens nothing any more
        code_id = json.loads(event.detail or "{}").get("code_id")
        with self.station.db.read() as session:
            row = session.get(PickupCodeRow, code_id) if code_id else None
            link = session.get(CodeParcel, (code_id, parcel.id)) if row is not None else None
            linked = link is not None
        if row is None or row.used_at is not None or not linked:
            raise Skip  # a newer code replaced it (a reprint), or it was used already
        return code

    def _deliver(self, delivery: Delivery, letter: Letter, body: dict[str, Any]) -> None:
        assert delivery.id is not None
        if delivery.channel in (Channel.EMAIL, Channel.STAFF_EMAIL):
            if self.mailer is None:
                raise SendFailed("no mail server is set (LOCKER_SMTP_HOST)")
            host = urlparse(self.config.public_url).hostname or "localhost"
            message_id = f"<delivery-{delivery.id}@{host}>"
            self.mailer.send(letter, to=delivery.recipient, message_id=message_id)
            return
        if not self.config.shop_webhook_url:
            raise Skip
        body["message"] = {"subject": letter.subject, "text": letter.text}
        self.poster.post(
            self.config.shop_webhook_url,
            body,
            secret=self.config.shop_webhook_secret,
            delivery_id=delivery.id,
        )
