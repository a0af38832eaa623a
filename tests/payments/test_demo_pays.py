"""The demo (``make run`` is ``locker serve --demo``) pays by link against the fake of Stripe
it starts on loopback: a parcel with an amount, the code asks for it, the fake's page takes
it, its webhook tells the station, and the code opens the door."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
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
            opened = courier.post("/api/v1/deposits", json={"parcel": parcel}).json()
            cid, pid = opened["door"]["compartment_id"], opened["parcel"]["id"]
            for hand in ("put", "close"):
                httpx.post(f"{base}/api/v1/sim/doors/{cid}/{hand}", headers=sim)
            pin = courier.post(f"/api/v1/parcels/{pid}/confirm").json()["code"]["pin"]
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
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert out.splitlines()[-1] == "station stopped"
