"""A station SIGKILLed right after its changes commit, before the broker has acknowledged
their events (the uplink sends them a moment later): restarted, it sends them then, and
the hub stores each once. ``locker serve`` runs as a real process on the simulator; the
hub and broker are the real ones (see test_fleet_end_to_end)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
from sqlmodel import col, func, select

from fleet.engines import free_port
from fleet.tables import EventRow, ParcelView
from locker.runtime.settings import Settings
from locker.runtime.startup import open_station
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import ParcelState
from locker.uplink import outgoing
from tests.api.live import wait_until
from tests.api.test_locker_command import LOCKER
from tests.fleet.engines import PgDatabase
from tests.fleet.test_fleet_end_to_end import Fleet, fleet, hub_state

API = "/api/v1"
SIM_TOKEN = "sim_" + "k" * 32  # noqa: S105 - the test's own simulator token


def _start(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [*LOCKER, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60  # a bound on waiting, never an assertion
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise AssertionError(f"locker serve ended ({process.returncode})")
        time.sleep(0.05)
    process.kill()
    raise AssertionError("locker serve never answered")


def _courier(env: dict[str, str]) -> str:
    out = subprocess.run(
        [*LOCKER, "courier", "add", "kim", "--carrier", "Parcel Co"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return next(line.split()[1] for line in out.splitlines() if line.startswith("token: "))


def _store(base: str, token: str, n: int) -> None:
    """Deposit a parcel, put it in and close the door with the simulator's hands, confirm."""
    courier = {"Authorization": f"Bearer {token}"}
    hands = {"Authorization": f"Bearer {SIM_TOKEN}"}
    with httpx.Client(base_url=base, timeout=30) as http:
        made = http.post(
            f"{API}/deposits",
            json={"parcel": {"tracking_number": f"K-{n}", "recipient_name": "Kai", "size": "S"}},
            headers=courier,
        )
        assert made.status_code == 201, made.text
        pid, cid = made.json()["parcel"]["id"], made.json()["door"]["compartment_id"]
        for hand in ("put", "close"):
            assert http.post(f"{API}/sim/doors/{cid}/{hand}", headers=hands).status_code == 200
        assert http.post(f"{API}/parcels/{pid}/confirm", headers=courier).status_code == 200


def test_a_station_killed_after_its_commits_sends_them_once_when_back(
    tmp_path: Path, pg_database: PgDatabase
) -> None:
    with fleet(tmp_path, pg_database) as f:
        env = _station_env(tmp_path, f)
        port = free_port()
        token = _courier(env)
        settings = Settings(_env_file=None, data_dir=Path(env["LOCKER_DATA_DIR"]))  # type: ignore[call-arg]
        broker = f.mosquitto.process
        assert broker is not None
        for n in range(5):
            station = _start(env, port)
            # The broker frozen: the station's changes commit and their events are
            # published into its socket, but no acknowledgement can come back. The kill
            # falls between the two; the broker, thawed, may still take what was in its
            # socket, so the station's resend after restart brings some events twice.
            os.kill(broker.pid, signal.SIGSTOP)
            try:
                _store(f"http://127.0.0.1:{port}", token, n)
                time.sleep(0.3)  # the uplink has published by now (it is woken at commit)
                os.kill(station.pid, signal.SIGKILL)
                station.wait()
            finally:
                os.kill(broker.pid, signal.SIGCONT)
            acked, newest = _points(settings)
            assert acked < newest  # killed between the commit and the acknowledgement
        station = _start(env, port)
        try:
            newest = _newest(settings)
            wait_until(lambda: hub_state(f).contiguous_seq == newest, timeout_s=60)
            _same_as_the_station(f, settings, newest)
        finally:
            station.terminate()
            station.wait(timeout=30)


def _station_env(tmp_path: Path, f: Fleet) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKER_", "FLEET_"))}
    hub = {f"LOCKER_{key.upper()}": str(value) for key, value in f.station_env.items()}
    return {
        **clean,
        **hub,
        "LOCKER_DATA_DIR": str(tmp_path / "killed"),
        "LOCKER_SIM_TOKEN": SIM_TOKEN,
        "LOCKER_POLL_S": "0.05",
    }


def _points(settings: Settings) -> tuple[int, int]:
    """The broker's acknowledged point and the newest event, read from the station's file."""
    station = open_station(settings, InMemoryLocks([]))
    try:
        return outgoing.acked_seq(station), outgoing.newest_seq(station)
    finally:
        station.db.close()


def _newest(settings: Settings) -> int:
    return _points(settings)[1]


def _same_as_the_station(f: Fleet, settings: Settings, newest: int) -> None:
    from locker.store.tables import Parcel

    locks = InMemoryLocks([])
    station = open_station(settings, locks)
    try:
        with station.db.read() as session:
            live = {
                (p.id or 0, p.state.value, p.compartment_id)
                for p in session.exec(
                    select(Parcel).where(
                        col(Parcel.state).in_(
                            (ParcelState.ANNOUNCED, ParcelState.RESERVED, ParcelState.STORED)
                        )
                    )
                )
            }
    finally:
        station.db.close()
    with f.db.transaction() as session:
        stored = session.exec(
            select(func.count()).select_from(EventRow).where(EventRow.station == "a")
        ).one()
        hub = {
            (p.parcel_id, p.state, p.compartment_id)
            for p in session.exec(select(ParcelView).where(ParcelView.station == "a"))
        }
    assert stored == newest  # every event once: none lost, none twice
    assert hub == live
    assert {state for _, state, _ in live} == {"stored"}
    assert len(live) == 5
