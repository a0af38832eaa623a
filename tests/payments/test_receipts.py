"""Mail about money over real SMTP (aiosmtpd on loopback): the message with the code says
what is due and carries the pay link; after paying, a receipt (amount, shop, parcel,
payment id, the terminal's receipt number for a card); carriers' webhooks get parcel.paid."""

from __future__ import annotations

import re
from pathlib import Path

from sim.payment_provider import FakeStripe
from sim.zvt import ZvtTimes
from tests.api.http_helpers import API, ok
from tests.api.live import live_station, wait_until
from tests.mail_support import smtp_server, text_of
from tests.notify.test_mail import mail_settings, store
from tests.payments.conftest import API_KEY, WEBHOOK_SECRET
from tests.webhook_support import webhook_receiver


def test_the_code_mail_says_what_is_due_and_a_receipt_follows(
    tmp_path: Path, fake_stripe: FakeStripe
) -> None:
    settings = {
        **mail_settings_for(),
        "stripe_api_key": API_KEY,
        "stripe_webhook_secret": WEBHOOK_SECRET,
        "stripe_api_base": fake_stripe.url,
    }
    with smtp_server() as server:
        settings.update(smtp_port=server.port)
        with live_station(tmp_path, **settings) as live:
            live.ctx.money.public_url = live.ctx.notifier.config.public_url
            parcel_id, _, _code = store(
                live, tracking="ORDER-9", email="bea@example.org", amount_due=2040
            )
            inbox = lambda: server.mailbox.to("bea@example.org")  # noqa: E731
            wait_until(lambda: len(inbox()) == 1)
            first = text_of(inbox()[0])
            assert "To pay before the door opens: EUR 20.40" in first
            url = re.search(r"Pay now: (\S+)", first)
            assert url is not None
            token = url.group(1).rsplit("/pay/", 1)[1]
            hosted = live.ctx.money.link_for(token, actor="customer:link")
            assert hosted is not None
            fake_stripe.pay(hosted.rsplit("/", 1)[1])
            live.ctx.money.sweep()  # no webhook URL: the background check finds it
            wait_until(lambda: len(inbox()) == 2)
            receipt = inbox()[1]
            assert receipt["Subject"] == "Receipt: EUR 20.40 for your parcel ORDER-9"
            body = text_of(receipt)
            assert "Amount: EUR 20.40" in body
            assert "Shop: Parcel Co" in body
            assert "Parcel: ORDER-9" in body
            assert "(online)" in body
            assert re.search(r"Payment: \d+ pi_", body)


def test_a_card_receipt_in_german_has_the_receipt_number(tmp_path: Path) -> None:
    """Paid at the station's own terminal: the real ZVT client against the simulator the
    live station starts (``LOCKER_ZVT_HOST=sim``); the receipt number is the terminal's."""
    settings = {**mail_settings_for(), "zvt_host": "sim"}
    with (
        smtp_server() as server,
        live_station(tmp_path, **{**settings, "smtp_port": server.port}) as live,
    ):
        assert live.runtime.zvt_sim is not None
        live.runtime.zvt_sim.times = ZvtTimes.zero()
        parcel_id, _, _code = store(
            live,
            tracking="ORDER-10",
            email="grete@example.de",
            recipient_language="de",
            amount_due=1999,
        )
        live.ctx.money.pay_by_card(parcel_id, actor="kiosk:1", on_text=lambda _t: None)
        inbox = lambda: server.mailbox.to("grete@example.de")  # noqa: E731
        wait_until(lambda: len(inbox()) == 2)
        receipt = inbox()[1]
        assert receipt["Subject"] == "Beleg: 19,99 EUR für Ihr Paket ORDER-10"
        body = text_of(receipt)
        [paid] = live.runtime.zvt_sim.journal
        assert paid.amount_cents == 1999
        assert f"Belegnummer: {paid.receipt:04d}" in body
        assert "(Karte an der Station)" in body


def mail_settings_for() -> dict[str, object]:
    class _Port:
        port = 25

    return mail_settings(_Port())  # type: ignore[arg-type]


def test_the_carrier_hears_parcel_paid_with_the_payment_and_no_secret(tmp_path: Path) -> None:
    fast = {"notify_every_s": 0.05, "webhook_allow_hosts": "127.0.0.1"}
    with webhook_receiver() as receiver, live_station(tmp_path, **fast) as live:
        with live.client("admin") as admin:
            hook = ok(
                admin.put(f"{API}/carriers/Parcel Co", json={"webhook_url": receiver.url + "/pc"})
            )
            receiver.secrets["/pc"] = hook["secret"]
        parcel_id, _, _code = store(live, tracking="ORDER-11", amount_due=750)
        with live.client("staff") as staff:
            ok(staff.post(f"{API}/parcels/{parcel_id}/payments/cash", json={"reason": "desk"}))
        wait_until(lambda: any(r.body["event"] == "parcel.paid" for r in receiver.accepted))
        paid = next(r for r in receiver.accepted if r.body["event"] == "parcel.paid")
        assert paid.body["parcel"]["id"] == parcel_id
        assert paid.body["payment"]["amount_cents"] == 750
        assert paid.body["payment"]["method"] == "cash"
        assert "secret" not in str(paid.body).lower()
