"""Webhooks go only to public addresses: an admin's URL into loopback, link-local (the
cloud's metadata service), private, multicast, reserved or unspecified ranges, also
written as an IPv4-mapped IPv6 address or as a number, is refused when it is set; a
name is resolved and checked again when a webhook is sent (it may resolve inside by
then); a host named in LOCKER_WEBHOOK_ALLOW_HOSTS may be private; and what staff are
told of a failure carries no user, password or query of the URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from locker.notify.senders import SendFailed, WebhookPoster
from locker.notify.webhook_guard import WebhookGuard, redact
from locker.runtime.settings import Settings
from locker.store.tables import Carrier
from tests.api.http_helpers import API, deposit, ok, problem
from tests.api.live import LiveStation, live_station, wait_until
from tests.api.test_screen_roles import screen_browser
from tests.webhook_support import webhook_receiver

FORBIDDEN = {
    "loopback": [
        "http://127.0.0.1/hook",
        "http://127.8.9.10:8080/hook",
        "http://[::1]/hook",
        "http://localhost:9/hook",
        "http://LocalHost./hook",
        "http://station.localhost/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one number: resolved, then refused
        "http://0x7f000001/hook",
    ],
    "link-local": [
        "http://169.254.169.254/latest/meta-data/",  # the cloud's metadata service
        "http://[fe80::1]/hook",
    ],
    "private": [
        "http://10.0.0.5/hook",
        "https://172.16.3.4/hook",
        "http://192.168.1.1:8443/hook",
        "http://[fd00::1]/hook",
    ],
    "multicast": ["http://224.0.0.1/hook", "http://[ff02::1]/hook"],
    "unspecified": ["http://0.0.0.0/hook", "http://[::]/hook"],
    "reserved": ["http://240.0.0.1/hook"],
    "ipv4-mapped": [
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:169.254.169.254]/hook",
        "http://[::ffff:10.1.2.3]/hook",
    ],
    "not public": ["http://100.64.0.1/hook"],  # shared address space (carrier NAT)
}
SECRET_URL = "http://hook-user:hunter2-pass@10.0.0.5:8080/hooks/station?token=tok-s3cret#frag"
SECRETS = ("hook-user", "hunter2-pass", "tok-s3cret", "frag")


def _put(admin: Any, url: str) -> Any:
    return admin.put(f"{API}/carriers/Parcel Co", json={"webhook_url": url})


@pytest.mark.parametrize("kind", sorted(FORBIDDEN))
def test_a_url_into_the_station_s_network_is_refused_when_it_is_set(
    tmp_path: Path, kind: str
) -> None:
    with live_station(tmp_path, background=False) as live, live.client("admin") as admin:
        for url in FORBIDDEN[kind]:
            refused = problem(_put(admin, url), 422, "webhook_url_forbidden")
            assert "LOCKER_WEBHOOK_ALLOW_HOSTS" in refused["detail"], url
        assert ok(admin.get(f"{API}/carriers")) == []  # nothing was stored


def test_public_urls_and_allowed_hosts_are_taken(tmp_path: Path) -> None:
    settings = {"webhook_allow_hosts": "shop.lan, 10.0.0.5"}
    with (
        live_station(tmp_path, background=False, **settings) as live,
        live.client("admin") as admin,
    ):
        for url in (
            "https://93.184.216.34/hook",
            "http://[2606:4700:4700::1111]:8080/hook",
            "https://hooks.carrier.example/station",  # not known yet: checked at send
            "http://10.0.0.5:8080/hook",  # allowed by the setting
            "http://SHOP.LAN/hook",
        ):
            assert ok(_put(admin, url))["webhook_url"] == url
        # an allowed host allows only itself
        problem(_put(admin, "http://10.0.0.6/hook"), 422, "webhook_url_forbidden")
        problem(_put(admin, "http://localhost/hook"), 422, "webhook_url_forbidden")


def test_the_refusal_and_the_audit_log_carry_no_secret_of_the_url(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live:
        with live.client("admin") as admin:
            refused = _put(admin, SECRET_URL)
            problem(refused, 422, "webhook_url_forbidden")
        assert "http://10.0.0.5:8080/hooks/station" in refused.text
        for secret in SECRETS:
            assert secret not in refused.text
    # and a URL that is taken is written to the audit log without its secrets
    public = SECRET_URL.replace("10.0.0.5", "93.184.216.34")
    (tmp_path / "2").mkdir()
    with live_station(tmp_path / "2", background=False) as live:
        with live.client("admin") as admin:
            assert ok(_put(admin, public))["webhook_url"] == public  # the admin's own
        with live.client("staff") as staff:
            [entry] = ok(staff.get(f"{API}/audit", params={"action": "carrier."}))
        assert entry["detail"] == "Parcel Co -> http://93.184.216.34:8080/hooks/station"


def test_a_name_that_resolves_inside_is_refused_when_the_webhook_is_sent() -> None:
    with webhook_receiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        receiver.secrets["/hook?token=tok-s3cret"] = "s"
        url = f"http://hook-user:hunter2-pass@localhost:{port}/hook?token=tok-s3cret"
        with pytest.raises(SendFailed) as refused:
            WebhookPoster().post(url, {"event": "x"}, secret="s", delivery_id=1)
        text = str(refused.value)
        assert f"http://localhost:{port}/hook" in text
        assert "127.0.0.1 (loopback)" in text
        for secret in SECRETS:
            assert secret not in text
        # the literal address, too
        with pytest.raises(SendFailed, match="loopback"):
            WebhookPoster().post(receiver.url + "/hook", {"event": "x"}, secret="s", delivery_id=2)
        assert receiver.calls == 0  # no connection reached it
        # allowed by name: it goes, and user:password are sent as Basic auth
        WebhookPoster(WebhookGuard({"localhost"})).post(
            url, {"event": "x"}, secret="s", delivery_id=3
        )
        [got] = receiver.accepted
        assert got.headers["path"] == "/hook?token=tok-s3cret"
        assert got.headers["Authorization"] == "Basic aG9vay11c2VyOmh1bnRlcjItcGFzcw=="


def test_a_failure_told_to_staff_names_the_url_without_its_secrets() -> None:
    with webhook_receiver(fail_first=1) as receiver:
        receiver.secrets["/hook?token=tok-s3cret"] = "s"
        port = receiver.url.rsplit(":", 1)[1]
        url = f"http://hook-user:hunter2-pass@127.0.0.1:{port}/hook?token=tok-s3cret#frag"
        with pytest.raises(SendFailed) as failed:
            WebhookPoster(WebhookGuard({"127.0.0.1"})).post(
                url, {"event": "x"}, secret="s", delivery_id=1
            )
        assert str(failed.value) == f"webhook http://127.0.0.1:{port}/hook: HTTP 500"
    assert redact(SECRET_URL) == "http://10.0.0.5:8080/hooks/station"
    assert redact("https://[fd00::1]/a/b?x=1") == "https://[fd00::1]/a/b"


def _carrier_deliveries(live: LiveStation) -> list[dict[str, Any]]:
    with live.client("staff") as staff:
        listed: list[dict[str, Any]] = ok(staff.get(f"{API}/notifications"))
    return [d for d in listed if d["channel"] == "carrier_webhook"]


def test_a_stored_url_that_points_inside_now_fails_and_staff_see_it_redacted(
    tmp_path: Path,
) -> None:
    """A URL stored before (by an older station, or a name that resolved outside then):
    every send checks it again."""
    fast = {"notify_every_s": 0.05, "expiry_every_s": 0.05}
    with webhook_receiver() as receiver, live_station(tmp_path, **fast) as live:
        port = receiver.url.rsplit(":", 1)[1]
        with live.runtime.station.db.write() as session:
            session.add(
                Carrier(
                    name="Parcel Co",
                    webhook_url=f"http://hook-user:hunter2-pass@localhost:{port}/h?token=tok-s3cret",
                )
            )
        with live.client("courier") as courier:
            deposit(courier, tracking="TRK-INSIDE")
        wait_until(lambda: any(d["last_error"] for d in _carrier_deliveries(live)))
        [delivery] = _carrier_deliveries(live)
        assert delivery["state"] == "pending"
        assert delivery["last_error"].startswith(f"webhook http://localhost:{port}/h: ")
        assert "loopback" in delivery["last_error"]
        browser = screen_browser(live, "staff")
        try:
            health = browser.get("/staff/health").text
        finally:
            browser.close()
        assert f"webhook http://localhost:{port}/h: " in health
        for secret in SECRETS[:3]:
            assert secret not in delivery["last_error"]
            assert secret not in health
        assert receiver.calls == 0


def test_the_shop_webhook_setting_is_checked_at_start() -> None:
    base: dict[str, Any] = {"shop_webhook_secret": "s", "_env_file": None}
    with pytest.raises(ValidationError, match="LOCKER_SHOP_WEBHOOK_URL"):
        Settings(shop_webhook_url="http://169.254.169.254/hook", **base)
    allowed = Settings(
        shop_webhook_url="http://shop.lan:8080/hook", webhook_allow_hosts="shop.lan", **base
    )
    assert allowed.webhook_allowed_hosts == frozenset({"shop.lan"})
