"""A station as its own process for the load test: ``locker serve --sim`` on a layout of
many compartments with short pulses, a SQLite file in a temporary directory, and the
accounts the clients sign in with (made over the API by the admin)."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# ``locker serve`` with the drivers' INFO lines in its log: each unlock says on which board
# and lock it ended and after how many pulses (a second one when the first read-back still
# saw the hook engaged), so every pulse the simulator counts can be traced to its door
# operation.
LOCKER = [
    sys.executable,
    "-c",
    "import logging; logging.basicConfig(level=logging.INFO, format='%(name)s %(message)s');"
    " from api.cli import app; app()",
]
RELEASED = re.compile(r"drivers\.\S+ board (\d+) lock (\d+) released after (\d+) pulse")
BUSES = ("a", "b")
BOARDS_PER_BUS = 3
LOCKS = 16  # a CU16
SIZES = ("S", "M", "L", "XL")
ROWS = 8
# The load test guesses wrong codes on purpose, all from one address: the attempt limits
# are raised so that neither the terminal's delays nor the station-wide cap stop the run.
ENV = {
    "LOCKER_ATTEMPTS_FREE": "1000000",
    "LOCKER_ATTEMPTS_STATION_PER_HOUR": "1000000",
    "LOCKER_POLL_S": "0.2",
}


def layout_text(pulse_ms: int = 40) -> str:
    """Two buses of three CU16 boards each: 96 compartments, pulses of ``pulse_ms``.
    Board addresses are unique in the station, so compartment = address * 16 + lock."""
    parts = ['[station]\nname = "Load station"\n']
    parts += [f'[[bus]]\nid = "{bus}"\nport = "sim"\n' for bus in BUSES]
    cid = 0
    for n, bus in enumerate(BUSES):
        for board in range(n * BOARDS_PER_BUS, (n + 1) * BOARDS_PER_BUS):
            parts.append(f'[[board]]\nbus = "{bus}"\naddress = {board}\npulse_ms = {pulse_ms}\n')
            for lock in range(1, LOCKS + 1):
                parts.append(
                    f'[[compartment]]\nid = {cid + 1}\nbus = "{bus}"\nboard = {board}\n'
                    f'lock = {lock}\nsize = "{SIZES[cid % len(SIZES)]}"\n'
                    f"column = {cid // ROWS + 1}\nrow = {cid % ROWS + 1}\n"
                )
                cid += 1
    return "\n".join(parts)


COMPARTMENTS = len(BUSES) * BOARDS_PER_BUS * LOCKS


@dataclass
class StationProcess:
    base_url: str
    database: Path
    log: Path
    process: subprocess.Popen[bytes]
    couriers: list[str] = field(default_factory=list)  # bearer tokens
    staff: str = ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)
        assert self.process.returncode == 0, f"locker serve ended with {self.process.returncode}"

    def unlocks(self) -> list[tuple[int, int]]:
        """(compartment, pulses) of every unlock the station's driver finished, from its log."""
        return [
            (int(board) * LOCKS + int(lock), int(pulses))
            for board, lock, pulses in RELEASED.findall(self.log.read_text())
        ]

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        """Read the station's SQLite file (after it stopped)."""
        db = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(log: Path, pattern: str, process: subprocess.Popen[bytes]) -> re.Match[str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text())
        if found:
            return found
        if process.poll() is not None:
            raise AssertionError(f"locker serve ended early:\n{log.read_text()}")
        time.sleep(0.05)
    raise AssertionError(f"locker serve never printed {pattern!r}:\n{log.read_text()}")


def _accounts(station: StationProcess, admin_password: str, couriers: int) -> None:
    with httpx.Client(base_url=station.base_url, timeout=60) as client:
        signed_in = client.post(
            "/api/v1/auth/token",
            json={"name": "admin", "password": admin_password, "new_password": "load admin pw"},
        )
        assert signed_in.status_code == 201, signed_in.text
        admin = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        for n in range(couriers):
            made = client.post(
                "/api/v1/accounts",
                headers=admin,
                json={"name": f"courier-{n}", "role": "courier", "carrier": f"Carrier {n % 3}"},
            )
            assert made.status_code == 201, made.text
            station.couriers.append(made.json()["token"])
        made = client.post(
            "/api/v1/accounts", headers=admin, json={"name": "clerk", "role": "staff"}
        )
        assert made.status_code == 201, made.text
        staff = client.post(
            "/api/v1/auth/token",
            json={
                "name": "clerk",
                "password": made.json()["one_time_password"],
                "new_password": "load staff pw",
            },
        )
        assert staff.status_code == 201, staff.text
        station.staff = staff.json()["token"]


@contextmanager
def station_process(tmp_path: Path, *, couriers: int = 5) -> Iterator[StationProcess]:
    """``locker serve --sim`` until the block ends (then stopped with SIGTERM)."""
    layout = tmp_path / "layout.toml"
    layout.write_text(layout_text())
    port = _free_port()
    data = tmp_path / "var"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*LOCKER, "serve", "--sim", "--layout", str(layout), "--data-dir", str(data)]
            + ["--port", str(port)],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **ENV},
        )
    station = StationProcess(f"http://127.0.0.1:{port}", data / "station.db", log, process)
    try:
        password = _wait_for(log, r"one-time password (\S+)", process)[1]
        _wait_for(log, r"API docs:", process)
        _until_up(station.base_url, process)
        _accounts(station, password, couriers)
        yield station
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(1000):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.02)
    raise AssertionError("the station never answered")
