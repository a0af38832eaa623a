"""The ``locker`` command as an installer or a newcomer runs it: real processes, real files."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from locker.codes import group_pin
from locker.store.db import head_revision
from locker.store.station_lock import station_lock
from tests.api.live import wait_until
from tests.cold_support import live_cold_layout
from tests.mail_support import smtp_server, text_of

LOCKER = [sys.executable, "-c", "from api.cli import app; app()"]


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOCKER, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_layout_check_summarises_the_demo(tmp_path: Path) -> None:
    done = run("layout", "check", cwd=tmp_path)
    assert done.returncode == 0
    assert "2 board(s), 32 compartments" in done.stdout


def test_layout_check_names_the_cold_groups(tmp_path: Path) -> None:
    cold = tmp_path / "cold.toml"
    cold.write_text(live_cold_layout())
    done = run("layout", "check", str(cold), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "cold group fridge: chilled 2–8 °C, thermometer fridge-sensor, compartments 4, 5" in (
        done.stdout
    )


def test_layout_check_lists_problems_with_lines(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[bus]]\nid = "a"\nport = "sim"\n[[board]]\naddress = 0\n'
        '[[compartment]]\nid = 1\nboard = 2\nlock = 1\nsize = "M"\n'
    )
    done = run("layout", "check", str(bad), cwd=tmp_path)
    assert done.returncode == 1
    assert f"{bad}:8: unknown board 2 on bus 'a'" in done.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    env = {"LOCKER_DATA_DIR": str(tmp_path / "data")}
    assert run("db", "current", cwd=tmp_path, env=env).stdout.strip() == "none"
    done = run("db", "upgrade", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"at revision {head_revision()}")
    assert run("db", "current", cwd=tmp_path, env=env).stdout.strip() == head_revision()


def test_db_upgrade_waits_for_no_running_station(tmp_path: Path) -> None:
    env = {"LOCKER_DATA_DIR": str(tmp_path / "data")}
    with station_lock(tmp_path / "data" / "station.db"):  # as a running station holds it
        done = run("db", "upgrade", cwd=tmp_path, env=env)
    assert done.returncode == 75
    assert "not migrated" in done.stderr
    assert "in use by another station process" in done.stderr
    assert not (tmp_path / "data" / "station.db").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(
    tmp_path: Path, port: int, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], list[str]]:
    """Run ``locker serve --demo`` until it prints the address of its API docs."""
    process = subprocess.Popen(
        [*LOCKER, "serve", "--demo", "--port", str(port), "--data-dir", str(tmp_path / "var")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    lines: list[str] = []
    while True:
        line = process.stdout.readline()
        if not line:
            _, err = process.communicate(timeout=30)
            raise AssertionError(f"locker serve ended early:\n{''.join(lines)}\n{err}")
        lines.append(line.rstrip())
        if line.startswith("API docs:"):
            return process, lines


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    return out


def _until_up(base: str) -> None:
    for _ in range(500):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.02)
    raise AssertionError("the station never answered")


def test_serve_runs_a_station_a_newcomer_can_use_over_http(tmp_path: Path) -> None:
    port = _free_port()
    process, lines = _start(tmp_path, port)
    try:
        text = "\n".join(lines)
        assert "bus main: simulated, 19200 baud" in text
        # the doors at start in one line, not a line per compartment
        assert [line for line in lines if "compartment" in line.lower()] == [
            "station: Demo pickup station, 32 compartments",
            "32 compartments checked: all ok",
        ]
        assert f"API docs: http://127.0.0.1:{port}/docs" in text
        password = re.search(r"one-time password (\S+)", text)
        token = re.search(r"demo courier token \(Demo Parcel Co\): (lps_\S+)", text)
        sim_token = re.search(r"simulator token .*: (sim_\S+)$", text, re.MULTILINE)
        assert password is not None
        assert token is not None
        assert sim_token is not None
        hands = {"Authorization": f"Bearer {sim_token[1]}"}
        base = f"http://127.0.0.1:{port}"
        _until_up(base)
        courier = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token[1]}"}, timeout=30
        )
        parcel = {"tracking_number": "JJD1", "recipient_name": "Ada", "size": "M"}
        opened = courier.post("/api/v1/deposits", json={"parcel": parcel}).json()
        cid, pid = opened["door"]["compartment_id"], opened["parcel"]["id"]
        assert opened["door"]["outcome"] == "opened"
        # the simulated doors take the printed token, nobody without it
        assert httpx.post(f"{base}/api/v1/sim/doors/{cid}/put").status_code == 401
        for hand in ("put", "close"):
            put = httpx.post(f"{base}/api/v1/sim/doors/{cid}/{hand}", headers=hands)
            assert put.status_code == 200
        stored = courier.post(f"/api/v1/parcels/{pid}/confirm").json()
        pin = stored["code"]["pin"]
        collected = httpx.post(f"{base}/api/v1/collect", json={"code": pin}, timeout=30)
        assert collected.status_code == 200
        assert collected.json()["doors"][0]["compartment_id"] == cid
        signed_in = httpx.post(
            f"{base}/api/v1/auth/token",
            json={"name": "admin", "password": password[1], "new_password": "a new admin pw"},
        )
        assert signed_in.status_code == 201
        courier.close()
    finally:
        out = _stop(process)
    assert out.splitlines()[-1] == "station stopped"
    assert (tmp_path / "var" / "station.db").exists()
    assert (tmp_path / "var" / "code.key").stat().st_mode & 0o077 == 0

    # A second start keeps the admin's own password: no new one-time password is shown.
    process, lines = _start(tmp_path, port)
    _stop(process)
    assert not any("one-time password" in line for line in lines)


def test_serve_pointed_at_a_mail_server_mails_a_parcel_s_whole_life(tmp_path: Path) -> None:
    """What the README's demo does: ``make run`` with LOCKER_SMTP_* set and short deadlines;
    the recipient is mailed the code, the last call (the deadline is near at once) and
    the receipt."""
    port = _free_port()
    with smtp_server() as server:
        env = {
            "LOCKER_SMTP_HOST": "127.0.0.1",
            "LOCKER_SMTP_PORT": str(server.port),
            "LOCKER_PICKUP_DAYS": "0.05",  # 72 minutes to collect
            "LOCKER_REMIND_HOURS_BEFORE": "2",  # so the reminder is due at once
            "LOCKER_LAST_CALL_HOURS_BEFORE": "1.5",  # and the last call too
            "LOCKER_NOTIFY_EVERY_S": "0.1",
            "LOCKER_EXPIRY_EVERY_S": "0.1",
            "LOCKER_SIM_TOKEN": "the demo's own sim token",
        }
        process, lines = _start(tmp_path, port, env)
        try:
            token = re.search(r"demo courier token \(Demo Parcel Co\): (lps_\S+)", "\n".join(lines))
            assert token is not None
            base = f"http://127.0.0.1:{port}"
            _until_up(base)
            courier = httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token[1]}"}, timeout=30
            )
            parcel = {
                "tracking_number": "JJD2",
                "recipient_name": "Ada",
                "recipient_email": "ada@example.org",
                "size": "S",
            }
            announced = courier.post("/api/v1/parcels", json=parcel).json()
            opened = courier.post(f"/api/v1/parcels/{announced['id']}/deposit").json()
            cid = opened["door"]["compartment_id"]
            # a token set in the environment is used, and not printed
            assert "simulator token" in "\n".join(lines)
            assert "from LOCKER_SIM_TOKEN" in "\n".join(lines)
            assert "the demo's own sim token" not in "\n".join(lines)
            hands = {"Authorization": "Bearer the demo's own sim token"}
            for hand in ("put", "close"):
                put = httpx.post(f"{base}/api/v1/sim/doors/{cid}/{hand}", headers=hands)
                assert put.status_code == 200
            pin = courier.post(f"/api/v1/parcels/{announced['id']}/confirm").json()["code"]["pin"]
            courier.close()
            wait_until(lambda: len(server.mailbox.to("ada@example.org")) >= 2)
            collected = httpx.post(f"{base}/api/v1/collect", json={"code": pin}, timeout=30)
            assert collected.status_code == 200
            wait_until(lambda: len(server.mailbox.to("ada@example.org")) == 3)
        finally:
            _stop(process)
    subjects = [m["Subject"] for m in server.mailbox.to("ada@example.org")]
    assert subjects == [
        "Your parcel is ready at Demo pickup station",
        "Last day to collect your parcel at Demo pickup station",
        "Your parcel was collected",
    ]
    first = text_of(server.mailbox.to("ada@example.org")[0])
    assert f"Your PIN: {group_pin(pin)}" in first
