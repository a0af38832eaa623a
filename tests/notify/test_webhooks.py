"""Webhooks to a receiver on loopback that checks every signature: a carrier connected by
an admin hears of each change of its parcels' states (retried until answered); the
shop's webhook gets the SMS/push for recipients with a phone number (with the code) and
the staff's alerts; a wrong secret is refused by the receiver and retried."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from locker.codes import group_pin
from locker.notify.senders import SendFailed, WebhookPoster
from locker.notify.webhook_guard import WebhookGuard
from tests.api.http_helpers import API, deposit, ok
from tests.api.live import LiveStation, live_station, wait_until
from tests.api.test_screen_roles import screen_browser
from tests.webhook_support import webhook_receiver

# The receivers listen on loopback, which webhooks may reach only when it is allowed.
FAST = {"notify_every_s": 0.05, "expiry_every_s": 0.05, "webhook_allow_hosts": "127.0.0.1"}


def as_time_passes(live: LiveStation, condition: Callable[[], bool]) -> None:
    """Move the station's clock a minute at a time (retries wait 30 s, 60 s, …) until the
    background jobs have made ``condition`` true."""
    for _ in range(60):
        if condition():
            return
        live.clock.advance(minutes=1)
        time.sleep(0.1)  # a few rounds of the notifier at this moment; not an assertion
    raise AssertionError("condition not reached")


SHOP_SECRET = "shop-secret-for-the-test"


def test_a_carrier_hears_of_every_change_signed_and_retried(tmp_path: Path) -> None:
    with webhook_receiver(fail_first=2) as receiver, live_station(tmp_path, **FAST) as live:
        with live.client("admin") as admin:
            hook = ok(
                admin.put(
                    f"{API}/carriers/Parcel Co", json={"webhook_url": receiver.url + "/parcel-co"}
                )
            )
            assert len(hook["secret"]) == 64
            receiver.secrets["/parcel-co"] = hook["secret"]
            again = ok(
                admin.put(f"{API}/carriers/Parcel Co", json={"webhook_url": hook["webhook_url"]})
            )
            assert again["secret"] is None  # shown once
            assert ok(admin.get(f"{API}/carriers")) == [
                {"name": "Parcel Co", "webhook_url": receiver.url + "/parcel-co", "secret": None}
            ]
        with live.client("courier") as courier:
            parcel_id, compartment = deposit(courier, tracking="TRK-HOOK")
            live.sim.put(compartment)
            live.sim.close(compartment)
            code = ok(courier.post(f"{API}/parcels/{parcel_id}/confirm"))["code"]
        # the first two calls are answered 500: those deliveries wait, then go again
        with live.client(None) as customer:
            ok(customer.post(f"{API}/collect", json={"code": code["pin"]}))
        as_time_passes(live, lambda: len(receiver.for_path("/parcel-co")) == 3)
        events = sorted(r.body["event"] for r in receiver.for_path("/parcel-co"))
        assert events == ["parcel.collected", "parcel.reserved", "parcel.stored"]
        assert receiver.refused[:2] == ["failing on purpose", "failing on purpose"]
        stored = next(r for r in receiver.accepted if r.body["event"] == "parcel.stored")
        assert stored.body["parcel"]["tracking_number"] == "TRK-HOOK"
        assert stored.body["parcel"]["id"] == parcel_id
        assert "code" not in stored.body  # the carrier got the code from its courier
        assert stored.headers["X-Station-Event"] == "parcel.stored"
        # each state change once, retries included
        ids = [r.headers["X-Station-Delivery"] for r in receiver.accepted]
        assert len(ids) == len(set(ids))
        with live.client("staff") as staff:
            listed = ok(staff.get(f"{API}/notifications"))
        hooks = [d for d in listed if d["channel"] == "carrier_webhook"]
        assert {d["state"] for d in hooks} == {"sent"}
        assert max(d["attempts"] for d in hooks) >= 2
        browser = screen_browser(live, "staff")  # the maintenance screen shows them too
        try:
            health = browser.get("/staff/health")
        finally:
            browser.close()
        assert health.status_code == 200
        assert health.text.count('data-delivery-state="sent"') == 3
        # the event's kind and its channel, read as words ("Parcel stored · carrier")
        assert '<td data-event="parcel.stored">Parcel stored · carrier</td>' in health.text


def test_the_shop_webhook_carries_sms_and_staff_alerts(tmp_path: Path) -> None:
    with webhook_receiver() as receiver:
        receiver.secrets["/shop"] = SHOP_SECRET
        settings = {
            **FAST,
            "shop_webhook_url": receiver.url + "/shop",
            "shop_webhook_secret": SHOP_SECRET,
        }
        with live_station(tmp_path, **settings) as live:
            with live.client("courier") as courier:
                parcel_id, compartment = deposit(
                    courier, tracking="TRK-SMS", phone="+49 170 1234567"
                )
                live.sim.put(compartment)
                live.sim.close(compartment)
                code = ok(courier.post(f"{API}/parcels/{parcel_id}/confirm"))["code"]
            wait_until(lambda: any(r.body["event"] == "code.issued" for r in receiver.accepted))
            sms = next(r.body for r in receiver.accepted if r.body["event"] == "code.issued")
            assert sms["to"]["phone"] == "+49 170 1234567"
            assert sms["code"] == {"pin": code["pin"], "qr_token": code["qr_token"]}
            assert code["pin"] not in sms["message"]["text"]  # read out in groups:
            assert group_pin(code["pin"]) in sms["message"]["text"]  # 063 585 8597
            # a door that does not open at collection: staff hear of it at once
            live.sim.jam(compartment)
            with live.client(None) as customer:
                failed = customer.post(f"{API}/collect", json={"code": code["pin"]})
            assert failed.status_code == 503
            wait_until(
                lambda: any(r.body["event"] == "alert.door_fault" for r in receiver.accepted)
            )
            alert = next(r.body for r in receiver.accepted if r.body["event"] == "alert.door_fault")
            assert alert["to"] == {"role": "staff"}
            assert f"compartment {compartment}" in alert["message"]["subject"]
            assert receiver.refused == []


def test_a_redirect_is_a_failure_not_a_delivery() -> None:
    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802  (urllib would follow with a GET)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        poster = WebhookPoster(WebhookGuard({"127.0.0.1"}))  # the test's own server
        with pytest.raises(SendFailed, match="302"):
            poster.post(url, {"event": "x"}, secret="s", delivery_id=1)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_forged_and_odd_extend_links_are_refused(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client(None) as anyone:
        for token in ("1.0123456789abcdef0123456789abcdef", "%D9%A1.abc", "x", "1." + "f" * 70):
            page = anyone.get(f"/extend/{token}")
            assert page.status_code == 404, token
            assert anyone.post(f"/extend/{token}").status_code == 404, token
