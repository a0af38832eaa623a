"""Pairing a screen as the kiosk, over real HTTP: an admin makes a device token, the
screen pastes it at /kiosk/pair and holds it as a cookie; with it, a guesser on the
network who filled the station's hourly cap cannot turn the kiosk's customers away."""

from __future__ import annotations

from pathlib import Path

from tests.api.http_helpers import API, ok, problem, store
from tests.api.live import live_station

WRONG = "1111111111"


def test_admin_pairs_a_kiosk_and_a_network_guesser_cannot_lock_it(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False, attempts_station_per_hour=4) as live,
        live.client("admin") as admin,
        live.client("courier") as courier,
        live.client(None) as screen,
    ):
        problem(
            live.client("staff").post(f"{API}/kiosk-devices", json={"name": "x"}), 403, "forbidden"
        )
        paired = ok(admin.post(f"{API}/kiosk-devices", json={"name": "entrance"}), 201)
        assert paired["token"].startswith("kd_")
        assert paired["pair_at"] == "/kiosk/pair"
        assert "not paired" in screen.get("/kiosk").text

        wrong = screen.post("/kiosk/pair", data={"token": paired["token"] + "x"})
        assert wrong.status_code == 422
        assert "not a live device token" in wrong.text
        assert "locker_kiosk" not in screen.cookies
        answer = screen.post("/kiosk/pair", data={"token": paired["token"]})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/kiosk"
        cookie = next(c for c in screen.cookies.jar if c.name == "locker_kiosk")
        assert cookie.path == "/kiosk"
        assert cookie.has_nonstandard_attr("HttpOnly")
        assert 'data-device="entrance"' in screen.get("/kiosk").text

        first, second = (
            store(live, courier, tracking="TRK-1"),
            store(live, courier, tracking="TRK-2"),
        )
        # a guesser on the network, one address per wrong PIN, fills the hour's cap
        for n in range(4):
            with live.client(None, local_address=f"127.0.3.{n + 1}") as guesser:
                problem(guesser.post(f"{API}/collect", json={"code": WRONG}), 404, "code_invalid")
        with live.client(None, local_address="127.0.3.9") as honest_on_the_net:
            refused = problem(
                honest_on_the_net.post(f"{API}/collect", json={"code": first.pin}),
                429,
                "too_many_attempts",
            )
            assert "station's own screen" in refused["detail"]
            # the QR token (the link in the message) is never refused by the cap
            ok(honest_on_the_net.post(f"{API}/collect", json={"code": second.qr_token}))
        # at the paired kiosk the right PIN opens at once
        opened = screen.post("/kiosk/collect", data={"code": first.pin})
        assert opened.status_code == 200, opened.text
        assert live.sim.pulses(first.compartment_id) == 2  # deposit, then this collection

        listed = ok(admin.get(f"{API}/kiosk-devices"))
        assert [d["name"] for d in listed] == ["entrance"]
        assert listed[0]["last_seen_at"]
        assert "token" not in listed[0]
        assert admin.delete(f"{API}/kiosk-devices/entrance").status_code == 204
        problem(admin.delete(f"{API}/kiosk-devices/entrance"), 404, "kiosk_not_found")
        assert "not paired" in screen.get("/kiosk").text
