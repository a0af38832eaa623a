"""Pay by link against the fake of Stripe, through the official SDK: the code of an unpaid
parcel opens nothing; paid (webhook or not), it opens once; forged and replayed webhooks
change nothing; no door, the money goes back."""

from __future__ import annotations

import json

import pytest

from locker.alerts import open_alerts
from locker.errors import NotFound, ReasonRequired
from locker.payments import amounts, desk
from locker.payments.cashier import Cashier
from locker.payments.due import PaymentRequired, pay_token
from locker.payments.provider import WebhookForged
from locker.payments.records import Method, PayState
from locker.station import Station
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import ParcelState
from sim.payment_provider import FakeStripe, sign
from tests.locker.service_helpers import actions, state_of
from tests.payments.helpers import payments, store_due


def _pay_at_provider(cashier: Cashier, fake: FakeStripe, parcel_id: int) -> str:
    url = cashier.link_for(pay_token(cashier.station.hasher, parcel_id), actor="customer")
    assert url is not None
    sid = url.rsplit("/", 1)[1]
    fake.pay(sid)
    return sid


def test_unpaid_code_opens_nothing_and_says_what_is_due(
    station: Station, locks: InMemoryLocks, cashier: Cashier
) -> None:
    stored = store_due(station, locks, 2040)
    assert stored.code is not None
    with pytest.raises(PaymentRequired) as raised:
        cashier.collect(code=stored.code.pin, terminal="kiosk:1")
    assert [(d.parcel_id, d.amount_cents, d.currency) for d in raised.value.due] == [
        (stored.parcel_id, 2040, "EUR")
    ]
    assert raised.value.code == "payment_required"
    assert locks.pulses(stored.compartment_id) == 1  # the courier's only
    assert state_of(station, stored.parcel_id) is ParcelState.STORED


def test_a_lost_webhook_still_lets_the_paid_customer_in(
    station: Station, locks: InMemoryLocks, cashier: Cashier, fake_stripe: FakeStripe
) -> None:
    fake_stripe.faults.lose_webhooks = True  # and no webhook URL at all
    stored = store_due(station, locks, 1500)
    assert stored.code is not None
    _pay_at_provider(cashier, fake_stripe, stored.parcel_id)
    result = cashier.collect(code=stored.code.pin, terminal="kiosk:1")  # asks the provider
    assert result.all_opened
    assert state_of(station, stored.parcel_id) is ParcelState.COLLECTED
    [payment] = payments(station, stored.parcel_id)
    assert payment.state is PayState.APPROVED
    assert payment.payment_ref
    assert "payment.approved" in actions(station, stored.parcel_id)


def test_the_webhook_counts_only_as_the_provider_reports_it(
    station: Station, locks: InMemoryLocks, cashier: Cashier, fake_stripe: FakeStripe
) -> None:
    stored = store_due(station, locks, 990)
    url = cashier.link_for(pay_token(station.hasher, stored.parcel_id), actor="customer")
    assert url is not None
    sid = url.rsplit("/", 1)[1]
    # A forged "completed" event, signed with the wrong secret: refused.
    forged = json.dumps(
        {"id": "evt_x", "type": "checkout.session.completed", "data": {"object": {"id": sid}}}
    ).encode()
    with pytest.raises(WebhookForged):
        cashier.webhook(forged, {"Stripe-Signature": sign("whsec_wrong", forged)})
    # Rightly signed, but the provider says it is not paid: nothing counts.
    good = {"Stripe-Signature": sign(fake_stripe.webhook_secret, forged)}
    assert cashier.webhook(forged, good) == "pending"
    # An old signature (a replay) is refused.
    old = {"Stripe-Signature": sign(fake_stripe.webhook_secret, forged, timestamp=1)}
    with pytest.raises(WebhookForged):
        cashier.webhook(forged, old)
    fake_stripe.pay(sid)
    payload, header = fake_stripe.ledger.sent[-1]
    assert cashier.webhook(payload, {"Stripe-Signature": header}) == "approved"
    assert cashier.webhook(payload, {"Stripe-Signature": header}) == "approved"  # replay
    assert len([p for p in payments(station, stored.parcel_id)]) == 1
    audit = actions(station, stored.parcel_id)
    assert audit.count("payment.approved") == 1


def test_one_link_per_parcel_and_attempt(
    station: Station, locks: InMemoryLocks, cashier: Cashier, fake_stripe: FakeStripe
) -> None:
    stored = store_due(station, locks, 500)
    token = pay_token(station.hasher, stored.parcel_id)
    first = cashier.link_for(token, actor="customer")
    assert cashier.link_for(token, actor="kiosk") == first  # the open page again
    assert len(fake_stripe.ledger.sessions) == 1
    [payment] = payments(station, stored.parcel_id)
    assert payment.idempotency_key == f"parcel-{stored.parcel_id}-attempt-1"
    assert cashier.link_for("1.forged", actor="customer") is None


def test_no_door_opens_after_paying_so_the_money_goes_back(
    station: Station, locks: InMemoryLocks, cashier: Cashier, fake_stripe: FakeStripe
) -> None:
    stored = store_due(station, locks, 2500)
    assert stored.code is not None
    _pay_at_provider(cashier, fake_stripe, stored.parcel_id)
    locks.jam(stored.compartment_id)
    result = cashier.collect(code=stored.code.pin, terminal="kiosk:1")
    assert not result.all_opened
    [payment] = payments(station, stored.parcel_id)
    assert payment.state is PayState.REFUNDED
    assert payment.refund_ref
    assert fake_stripe.ledger.refunded_cents() == fake_stripe.ledger.charged_cents() == 2500
    assert state_of(station, stored.parcel_id) is ParcelState.STORED  # still due


def test_a_failed_refund_alerts_staff_with_what_they_need(
    station: Station, locks: InMemoryLocks, cashier: Cashier, fake_stripe: FakeStripe
) -> None:
    stored = store_due(station, locks, 2500)
    assert stored.code is not None
    sid = _pay_at_provider(cashier, fake_stripe, stored.parcel_id)
    locks.jam(stored.compartment_id)
    fake_stripe.faults.refunds_fail = True
    cashier.collect(code=stored.code.pin, terminal="kiosk:1")
    [payment] = payments(station, stored.parcel_id)
    assert payment.state is PayState.REFUND_FAILED
    with station.db.read() as session:
        texts = [a.detail for a in open_alerts(session) if a.kind.value == "payment_refund"]
    assert len(texts) == 1
    assert sid in texts[0]
    assert "EUR 25.00" in texts[0]
    assert payment.payment_ref in texts[0]


def test_amounts_are_whole_cents_within_reason(station: Station, locks: InMemoryLocks) -> None:
    for bad in (-1, 20.40, "2040", True, amounts.MAX_CENTS + 1):
        with pytest.raises(amounts.AmountInvalid):
            store_due(station, locks, bad)  # type: ignore[arg-type]
    assert amounts.shown(2040, "EUR", "de") == "20,40 EUR"


def test_staff_change_the_amount_audited_and_settle_at_the_desk(
    station: Station, locks: InMemoryLocks, cashier: Cashier
) -> None:
    stored = store_due(station, locks, 2040)
    assert stored.code is not None
    desk.set_amount(
        station, cashier.links, stored.parcel_id, 1000, actor="staff:eva", reason="voucher"
    )
    assert [u.amount_cents for u in desk.unpaid(station)] == [1000]
    with pytest.raises(ReasonRequired):
        desk.settle_at_desk(
            station,
            cashier.links,
            stored.parcel_id,
            Method.CASH,
            actor="staff:eva",
            reason=" ",
        )
    desk.settle_at_desk(
        station,
        cashier.links,
        stored.parcel_id,
        Method.CASH,
        actor="staff:eva",
        reason="paid at the till",
    )
    assert desk.unpaid(station) == []
    assert cashier.collect(code=stored.code.pin, terminal="kiosk:1").all_opened
    totals = desk.day_totals(station, "UTC")
    assert totals.taken == {"cash": 1000}
    audit = actions(station, stored.parcel_id)
    assert "parcel.amount_changed" in audit
    assert "payment.approved" in audit
    with pytest.raises(NotFound):
        desk.payments_of(station, 999)
