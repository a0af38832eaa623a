"""The rig of the fleet bench: the hub's engines (PostgreSQL, Mosquitto) and one worker in its
own process, the simulated stations connected to it, and the CPU time they spend.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.fleet_stations import (
    REPO,
    WAIT_S,
    simulator_main,
)


def cpu_s(pid: int) -> float:
    """User + system CPU time of a running process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_s(parent: int) -> float:
    """CPU time of ``parent`` and its living children (PostgreSQL's backends)."""
    total = cpu_s(parent)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class Hub:
    """PostgreSQL, the hub's schema and registry, the broker and one worker process."""

    def __init__(self, stations: int, folder: Path) -> None:
        from fleet.db import HubDatabase
        from fleet.engines import FleetBroker, Postgres

        self.folder = folder
        self.names = [f"b{i:05d}" for i in range(stations)]
        self.pg = Postgres.create()
        self.pg.start()
        url = self.pg.create_database("hub")
        self.db = HubDatabase(url)
        self.db.upgrade()
        self.broker = FleetBroker.create(self.names, log_types=("error", "warning"))
        self._register()
        self._bench_conf()
        self.broker.start()
        self.worker: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.client_prefix = f"bench-{uuid.uuid4().hex[:6]}"

    def _register(self) -> None:
        """Every station in the registry at once (``fleet.cli station add`` one by one
        would take a transaction each), with a hash of the password the broker has."""
        import secrets

        from fleet import broker
        from fleet.tables import Station, StationState

        now = datetime.now(UTC)
        with self.db.transaction() as session:
            session.add_all(
                Station(
                    name=name,
                    created_at=now,
                    command_key=secrets.token_hex(32),
                    broker_password_hash=broker.hash_password(self.broker.passwords[name]),
                )
                for name in self.names
            )
            session.flush()
            session.add_all(StationState(station=name) for name in self.names)

    def _bench_conf(self) -> None:
        from fleet import broker

        folder = self.broker.folder  # FleetBroker.create wrote the files there
        conf = broker.mosquitto_conf(
            folder,
            port=self.broker.port,
            persistence_location=folder / "persistence",
            max_queued_messages=0,  # unbounded: see the module's docstring
            pid_file=folder / "mosquitto.pid",
            log_types=("error", "warning"),
        )
        (folder / "mosquitto.conf").write_text(conf)

    def start_worker(self, index: int = 0, count: int = 1) -> subprocess.Popen[bytes]:
        """Worker ``index`` of ``count`` in its own process (``fleet.cli worker --index``,
        ``FLEET_WORKERS``: it takes its share of the partitions); the first one started is
        ``self.worker``, every one is in ``self.workers``."""
        env = {
            **os.environ,
            "FLEET_DATABASE_URL": self.db.url,
            "FLEET_MQTT_PORT": str(self.broker.port),
            "FLEET_MQTT_USER": self.broker.hub_user,
            "FLEET_MQTT_PASSWORD": self.broker.hub_password,
            "FLEET_MQTT_CLIENT_PREFIX": self.client_prefix,
            "FLEET_MQTT_SHARE_GROUP": self.broker.share_group,
            "FLEET_MQTT_SESSION_EXPIRY_S": "0",
            "FLEET_WORKERS": str(count),
        }
        log = self.folder / f"worker-{index}.log"
        before = log.stat().st_size if log.exists() else 0  # a restarted worker's log goes on
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603 - our own hub's command
                [sys.executable, "-m", "fleet.cli", "worker", "--index", str(index)],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(
            lambda: b"subscribed" in log.read_bytes()[before:],
            f"the worker's subscription ({log})",
        )
        self.workers.append(process)
        if self.worker is None:
            self.worker = process
        return process

    def stop_worker(self) -> None:
        """Stop every worker (SIGTERM: each finishes its batch and leaves)."""
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.workers = []
        self.worker = None

    def postmaster(self) -> int:
        return int((self.pg.data / "postmaster.pid").read_text().split()[0])

    def broker_pid(self) -> int:
        return int((self.broker.folder / "mosquitto.pid").read_text().split()[0])

    def scalar(self, sql: str, **params: Any) -> Any:
        import sqlalchemy as sa

        with self.db.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        import sqlalchemy as sa

        with self.db.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).all())

    def close(self) -> None:
        self.stop_worker()
        self.db.close()
        self.broker.remove()
        self.pg.remove()


def wait_for(check: Any, what: str, seconds: float = WAIT_S) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench.fleet: still waiting for {what} after {seconds:.0f} s")
        time.sleep(0.1)


class Fleet:
    """The simulator processes of one run."""

    def __init__(self, hub: Hub, processes: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for k in range(processes):
            names = hub.names[k::processes]
            creds = [(n, *hub.broker.credentials(n)) for n in names]
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=simulator_main,
                args=(theirs, hub.broker.port, creds, 1000 + k),
                daemon=True,
            )
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)
        for pipe in self.pipes:
            if not pipe.poll(WAIT_S):
                raise SystemExit("bench.fleet: a simulator process did not connect its stations")
            problem = pipe.recv()
            if problem:
                raise SystemExit(f"bench.fleet: a station could not connect: {problem}")

    def send(self, *order: Any) -> None:
        for pipe in self.pipes:
            pipe.send(order)

    def collect(self) -> list[Any]:
        return [pipe.recv() for pipe in self.pipes]

    def order(self, *order: Any) -> list[Any]:
        self.send(*order)
        return self.collect()

    def close(self) -> None:
        for pipe, proc in zip(self.pipes, self.procs, strict=True):
            try:
                pipe.send(("stop",))
                pipe.poll(30)
            except OSError:
                pass
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
