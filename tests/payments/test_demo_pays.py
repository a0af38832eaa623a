"""The demo (``make run`` is ``locker serve --demo``) pays by link against the fake of Stripe
it starts on loopback: a parcel with an amount, the code asks for it, the fake's page takes
it, its webhook tells the station, and the code opens the door. And by card at the kiosk:
the demo's simulated ZVT terminal (with its modelled times) takes the amount of a second
parcel through the kiosk's own screens, and its door opens."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.api.live import wait_until
from tests.api.test_locker_command import LOCKER


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_demo_takes_a_payment_by_link_and_opens_the_door(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LOCKER_PUBLIC_URL": base}
    env.pop("LOCKER_STRIPE_API_KEY", None)
    process = subprocess.Popen(
        [*LOCKER, "serve", "--demo", "--port", str(port), "--data-dir", str(tmp_path / "var")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        while not lines or not lines[-1].startswith("API docs:"):
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line.rstrip())
        text = "\n".join(lines)
        assert "demo payments: a fake of Stripe at http://127.0.0.1:" in text
        assert re.search(r"card terminal: simulated \(ZVT\) at 127\.0\.0\.1:\d+, registered", text)
        token = re.search(r"demo courier token \(Demo Parcel Co\): (lps_\S+)", text)
        hands = re.search(r"simulator token .*: (sim_\S+)$", text, re.MULTILINE)
        assert token is not None
        assert hands is not None

        def up() -> bool:
            try:
                return httpx.get(f"{base}/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, timeout_s=30)
        sim = {"Authorization": f"Bearer {hands[1]}"}
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token[1]}"}, timeout=30
        ) as courier:
            parcel = {
                "tracking_number": "SHOP-1",
                "recipient_name": "Ada",
                "size": "M",
                "amount_due": 1250,
            }
            cid, pin = _stored(courier, base, sim, parcel)
            card_parcel = {**parcel, "tracking_number": "SHOP-2", "amount_due": 990}
            card_cid, card_pin = _stored(courier, base, sim, card_parcel)
        asked = httpx.post(f"{base}/api/v1/collect", json={"code": pin}, timeout=30)
        assert asked.status_code == 402
        pay_url = asked.json()["due"][0]["pay_url"]
        hosted = httpx.get(pay_url + "/go", timeout=30)
        assert hosted.status_code == 303
        back = httpx.post(hosted.headers["location"], timeout=30, follow_redirects=True)
        assert "Paid, thank you" in back.text
        collected = httpx.post(f"{base}/api/v1/collect", json={"code": pin}, timeout=30)
        assert collected.status_code == 200
        assert collected.json()["doors"][0]["compartment_id"] == cid
        page = _pay_by_card_at_the_kiosk(base, card_pin)
        assert f"Compartment {card_cid} is open" in page, page
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out.splitlines()[-1] == "station stopped"


def _stored(
    courier: httpx.Client, base: str, sim: dict[str, str], parcel: dict[str, object]
) -> tuple[int, str]:
    """A parcel deposited, put in by the simulator's hands, its door closed, confirmed."""
    opened = courier.post("/api/v1/deposits", json={"parcel": parcel}).json()
    cid, pid = opened["door"]["compartment_id"], opened["parcel"]["id"]
    for hand in ("put", "close"):
        httpx.post(f"{base}/api/v1/sim/doors/{cid}/{hand}", headers=sim)
    pin = courier.post(f"/api/v1/parcels/{pid}/confirm").json()["code"]["pin"]
    return int(cid), str(pin)


_JOB = re.compile(r'hx-get="/kiosk/pay-card/([A-Za-z0-9_-]+)"')


def _pay_by_card_at_the_kiosk(base: str, pin: str) -> str:
    """The kiosk's screens as its browser asks for them: the code ("pay first", with
    "pay by card here"), the card payment, its progress until the end; the last page."""
    with httpx.Client(base_url=base, timeout=30, headers={"HX-Request": "true"}) as kiosk:
        owed = kiosk.post("/kiosk/collect", data={"code": pin})
        assert "EUR 9.90" in owed.text
        assert 'id="pay-card"' in owed.text
        page = kiosk.post("/kiosk/pay-card", data={"code": pin}).text
        texts = set()
        deadline = time.monotonic() + 60  # only stops a hang: the terminal takes ~8 s
        while (job := _JOB.search(page)) is not None:
            assert time.monotonic() < deadline, page
            time.sleep(0.2)
            page = kiosk.get(f"/kiosk/pay-card/{job.group(1)}").text
            texts |= set(re.findall(r"data-terminal-text>([^<]+)<", page))
        assert "Insert card" in texts  # the terminal's words reached the kiosk
        return page
