"""Paying over real HTTP: the station served with the simulator's boards, the real Stripe
SDK against the fake provider on loopback, whose webhooks come back to the station."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sim.payment_provider import FakeStripe, sign
from tests.api.http_helpers import API, ok, parcel, problem, store
from tests.api.live import LiveStation, live_station
from tests.payments.conftest import API_KEY, WEBHOOK_SECRET


@pytest.fixture
def paying(tmp_path: Path, fake_stripe: FakeStripe) -> Iterator[LiveStation]:
    with live_station(
        tmp_path,
        background=False,
        stripe_api_key=API_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=fake_stripe.url,
    ) as live:
        live.ctx.money.public_url = live.base_url
        live.ctx.settings.public_url = live.base_url
        fake_stripe.webhook_url = f"{live.base_url}{API}/payments/webhook"
        yield live


def test_pay_by_link_over_http_then_collect(paying: LiveStation, fake_stripe: FakeStripe) -> None:
    courier, anyone = paying.client("courier"), paying.client()
    stored = store(paying, courier, tracking="ORDER-7", amount_due=2040)
    body = problem(
        anyone.post(f"{API}/collect", json={"code": stored.pin}), 402, "payment_required"
    )
    [due] = body["due"]
    assert due["amount_due"] == 2040
    assert due["currency"] == "EUR"
    assert due["amount_text"] == "EUR 20.40"
    page = anyone.get(due["pay_url"])
    assert page.status_code == 200
    assert "EUR 20.40" in page.text
    to_provider = anyone.get(due["pay_url"] + "/go")
    assert to_provider.status_code == 303
    hosted = to_provider.headers["location"]
    assert hosted.startswith(fake_stripe.url)
    back = anyone.post(hosted, follow_redirects=True)  # the customer pays; the webhook comes
    assert back.status_code == 200
    assert "Paid, thank you" in back.text
    opened = ok(anyone.post(f"{API}/collect", json={"code": stored.pin}))
    assert opened["all_opened"] is True
    staff = paying.client("staff")
    [payment] = ok(staff.get(f"{API}/parcels/{stored.id}/payments"))
    assert payment["state"] == "approved"
    assert payment["method"] == "link"
    assert payment["payment_ref"].startswith("pi_")
    totals = ok(staff.get(f"{API}/payments/totals"))
    assert totals["taken_cents"] == {"link": 2040}


def test_webhooks_are_checked(paying: LiveStation, fake_stripe: FakeStripe) -> None:
    anyone = paying.client()
    forged = b'{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {}}}'
    answer = anyone.post(
        f"{API}/payments/webhook",
        content=forged,
        headers={"Stripe-Signature": sign("whsec_other", forged)},
    )
    problem(answer, 400, "webhook_signature_invalid")
    unsigned = anyone.post(f"{API}/payments/webhook", content=forged)
    problem(unsigned, 400, "webhook_signature_invalid")


def test_amounts_and_who_may_change_them(paying: LiveStation) -> None:
    courier, staff = paying.client("courier"), paying.client("staff")
    for bad in (-5, 20.4, "2040", 10**9):
        answer = courier.post(f"{API}/deposits", json={"parcel": parcel("BAD", amount_due=bad)})
        problem(answer, 422, "amount_invalid")
    stored = store(paying, courier, tracking="ORDER-8", amount_due=500)
    url = f"{API}/parcels/{stored.id}/amount-due"
    problem(courier.put(url, json={"amount_due": 100, "reason": "x"}), 403, "forbidden")
    problem(staff.put(url, json={"amount_due": 1.5, "reason": "typo"}), 422, "amount_invalid")
    assert ok(staff.put(url, json={"amount_due": 700, "reason": "shipping"})) == {"amount_due": 700}
    [unpaid] = ok(staff.get(f"{API}/payments/unpaid"))
    assert unpaid["amount_cents"] == 700
    cash = ok(staff.post(f"{API}/parcels/{stored.id}/payments/cash", json={"reason": "till 2"}))
    assert cash["method"] == "cash"
    assert cash["actor"] == "staff:staff"
    assert ok(staff.get(f"{API}/payments/unpaid")) == []
    problem(staff.put(url, json={"amount_due": 1, "reason": "again"}), 409, "invalid_transition")
    refunded = ok(staff.post(f"{API}/payments/{cash['id']}/refund", json={"reason": "complaint"}))
    assert refunded["state"] == "refunded"
    problem(paying.client("admin").post(f"{API}/terminal/end-of-day"), 409, "invalid_transition")
    problem(staff.post(f"{API}/terminal/end-of-day"), 403, "forbidden")
    audit = ok(staff.get(f"{API}/audit", params={"parcel_id": stored.id}))
    actions = {entry["action"] for entry in audit}
    assert {"parcel.amount_changed", "payment.approved", "payment.refunded"} <= actions


def test_staff_day_totals_refuse_a_wrong_day(paying: LiveStation) -> None:
    staff = paying.client("staff")
    problem(staff.get(f"{API}/payments/totals", params={"day": "2026-13-40"}), 422, "day_invalid")
    assert (
        staff.get(f"{API}/payments/totals", params={"day": "2026-12-01"}).status_code
        == httpx.codes.OK
    )
