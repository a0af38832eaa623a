"""The fleet hub under load: N simulated stations publish events over MQTT 5 to a real
Mosquitto, one hub worker (``python -m fleet.cli worker``, its own process) stores them in
a real PostgreSQL.

Run: ``.venv/bin/python -m bench.fleet [--stations 100,1000,10000] [--seconds 60]``.

- **Stations** are lightweight: no serial line, no SQLite, only an MQTT 5 client each
  (paho) with its own broker user ``st-<name>`` (the hub's generated password file and
  ACL: a station may write only its own topics), its retained birth and will, and its
  events (``lps/v1/<name>/evt``, QoS 1, ``seq`` 1, 2, 3, … in order). They run in a few
  processes, each driving its share of the clients from one ``epoll`` loop (paho's
  ``loop_read`` / ``loop_write`` / ``loop_misc``, no thread per client).
- **Rate**: the InPost busy day, 310 parcels a machine a day, 5 events each (announced,
  reserved, stored, collected, capacity): 1,550 events a station a day, spread evenly over
  24 h, as Poisson arrivals (1×: one event every 55.7 s per station). The time is not
  compressed at 1×: each configuration runs a window of ``--seconds`` of that day in real
  time. 100× sends the same events a hundred times as often (100 minutes of the day in a
  60 s window), the hub's headroom.
- **Lag**: from the event's ``at`` (the station's commit time: the wall clock when it is
  published) to the hub's ``received_at`` (stamped in the ingest transaction just before
  it commits), read from the ``events`` table. After the window the hub gets ``--drain``
  seconds to catch up; an event still not in by then counts with its age at that moment,
  and its percentile is shown as ``≥`` (a lower bound: the hub is behind).
- **Ingest rate**: rows stored during the window per second, beside the rate the stations
  offered and beside the broker's ceiling.
- **Hub CPU**: the worker process's CPU time (``/proc/<pid>/stat``) during the window, in
  % of one core per 1,000 stations; PostgreSQL's (the postmaster's children) beside it.
- **Ceiling** (the baseline, same run, same N connected): the same stations publish QoS 1
  as fast as they can to one plain subscriber (``mosquitto_sub``, the broker's own C client:
  QoS 1, the hub's user, no database), and what it receives per second is counted.

Bench-only settings, beside the hub's generated broker configuration: the hub's queue in
the broker is unbounded (``max_queued_messages 0``: at 100× the hub falls behind, and the
default of 10,000 would drop events and measure resends instead of ingest), the broker logs
errors and warnings only, and the worker's session expires when it disconnects (so the
ceiling phase after it is not queued for it). Every station gets its own password and
hash (``fleet.engines.FleetBroker``: ``$7$`` with 101 iterations, 10,000 of them in
0.65 s here), and the registry is filled in one transaction.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import random
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.common import Row, p50, p99, table

EVENTS_PER_DAY = 310 * 5  # InPost's busy day: 310 parcels a machine, 5 events each
DAY_S = 86_400.0
PER_STATION_1X = EVENTS_PER_DAY / DAY_S  # events/s of one station at 1×
REPO = Path(__file__).resolve().parents[1]
MOSQUITTO_SUB = Path(os.environ.get("LPS_MOSQUITTO_SUB", "/usr/bin/mosquitto_sub"))
WAIT_S = 180.0  # a bound on waiting for what should happen (connections, births)
STATIONS_PER_PROCESS = 2500
CEILING_OUTSTANDING = 2000  # unacknowledged publishes a simulator process keeps in flight


# --- the simulated stations (in their own processes) --------------------------------------


def raise_fd_limit(wanted: int) -> int:
    """Raise the soft limit of file descriptors towards ``wanted`` (and the hard limit
    where root may: not in every container); returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    if hard < wanted:
        ceiling = int(Path("/proc/sys/fs/nr_open").read_text())
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, min(wanted, ceiling)))
            hard = min(wanted, ceiling)
        except (ValueError, OSError):
            pass  # no CAP_SYS_RESOURCE: the hard limit stays
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    return min(wanted, hard)


def _events_of_parcel(parcel: int) -> list[tuple[str, dict[str, Any]]]:
    """The five events of one parcel's life at a station (what the hub projects)."""
    compartment = 1 + parcel % 48
    deadline = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    facts = {
        "id": parcel,
        "tracking_number": f"BENCH{parcel:08d}",
        "carrier": "InPost",
        "size": "M",
        "deadline": deadline,
        "accessible": False,
    }
    steps: list[tuple[str, dict[str, Any]]] = [
        ("parcel", {**facts, "state": "announced", "compartment_id": None}),
        ("parcel", {**facts, "state": "reserved", "compartment_id": compartment}),
        ("parcel", {**facts, "state": "stored", "compartment_id": compartment}),
        ("parcel", {**facts, "state": "collected", "compartment_id": None}),
        ("capacity", {"free": {"S": 10, "M": 20 + parcel % 5, "L": 8}, "accessible_free": {}}),
    ]
    return steps


class SimStation:
    """One station's client and its sequence of events."""

    def __init__(self, name: str, user: str, password: str, port: int, boot: str) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

        from locker.uplink.messages import Presence, topic

        self.name = name
        self.seq = 0
        self.parcel = 0
        self.pending: list[tuple[str, dict[str, Any]]] = []
        self.connected = False
        self.failed = ""
        self.acked = 0
        self.boot = boot
        self.evt_topic = topic(name, "evt")
        self.state_topic = topic(name, "state")
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"sim-{name}",
            protocol=MQTTProtocolVersion.MQTTv5,
            reconnect_on_failure=False,
        )
        client.username_pw_set(user, password)
        client.will_set(
            self.state_topic, Presence(station=name, online=False).payload(), qos=1, retain=True
        )
        client.on_connect = self._on_connect
        client.on_publish = self._on_publish
        self.client = client
        self.port = port

    def _on_connect(self, client: Any, _u: Any, _flags: Any, reason: Any, _p: Any) -> None:
        from locker.uplink.messages import Presence

        if reason.is_failure:
            self.failed = str(reason)
            return
        self.connected = True
        birth = Presence(
            station=self.name,
            online=True,
            at=datetime.now(UTC),
            boot=self.boot,
            last_seq=self.seq,
        )
        client.publish(self.state_topic, birth.payload(), qos=1, retain=True)

    def _on_publish(self, _c: Any, _u: Any, _mid: int, _reason: Any, _p: Any) -> None:
        self.acked += 1

    def next_event(self) -> tuple[int, float, bytes]:
        """The station commits its next event now: ``(seq, at, payload)``."""
        from locker.uplink.messages import Event

        if not self.pending:
            self.parcel += 1
            self.pending = _events_of_parcel(self.parcel)
        kind, data = self.pending.pop(0)
        self.seq += 1
        at = datetime.now(UTC)
        event = Event(
            id=uuid.uuid4().hex,
            station=self.name,
            seq=self.seq,
            at=at,
            type=kind,
            data=data,
        )
        return self.seq, at.timestamp(), event.payload()


class Simulator:
    """Many :class:`SimStation` on one selector loop."""

    def __init__(self, port: int, creds: list[tuple[str, str, str]], seed: int) -> None:
        raise_fd_limit(len(creds) + 1024)
        self.random = random.Random(seed)
        boot = uuid.uuid4().hex
        self.stations = [SimStation(n, u, p, port, boot) for n, u, p in creds]
        self.selector = selectors.DefaultSelector()
        self.dirty: set[SimStation] = set()
        self.by_fd: dict[int, SimStation] = {}
        self.last_misc = time.monotonic()

    def connect(self) -> str:
        for station in self.stations:
            station.client.connect("127.0.0.1", station.port, keepalive=900)
            sock = station.client.socket()
            assert sock is not None
            self.selector.register(sock, selectors.EVENT_READ, station)
            self._wrote(station)
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            self.pump(0.05)
            failed = [s for s in self.stations if s.failed]
            if failed:
                return f"{failed[0].name}: {failed[0].failed}"
            if all(s.connected for s in self.stations):
                return ""
        return "not every station connected"

    def _wrote(self, station: SimStation) -> None:
        if station.client.want_write():
            self.dirty.add(station)

    def pump(self, timeout: float) -> None:
        for key, _mask in self.selector.select(timeout):
            station: SimStation = key.data
            station.client.loop_read(max_packets=64)
            self._wrote(station)
        for station in list(self.dirty):
            station.client.loop_write()
            if not station.client.want_write():
                self.dirty.discard(station)
        now = time.monotonic()
        if now - self.last_misc > 5:
            self.last_misc = now
            for station in self.stations:
                station.client.loop_misc()

    def publish(self, station: SimStation) -> tuple[int, float]:
        seq, at, payload = station.next_event()
        station.client.publish(station.evt_topic, payload, qos=1)
        self._wrote(station)
        return seq, at

    def run_poisson(self, rate_per_station: float, seconds: float) -> dict[str, Any]:
        """Poisson arrivals at ``rate_per_station`` for each station during ``seconds``."""
        total_rate = rate_per_station * len(self.stations)
        records: list[tuple[str, int, float]] = []
        start = time.monotonic()
        end = start + seconds
        due = start + self.random.expovariate(total_rate)
        while True:
            now = time.monotonic()
            if now >= end:
                break
            burst = 0
            while due <= now and burst < 200:  # behind: publish late, but keep the window
                burst += 1
                station = self.random.choice(self.stations)
                seq, at = self.publish(station)
                records.append((station.name, seq, at))
                due += self.random.expovariate(total_rate)
            self.pump(max(0.0, min(due, end) - time.monotonic()))
        self._settle()
        return {"records": records, "seconds": time.monotonic() - start}

    def run_flat_out(self, seconds: float) -> dict[str, Any]:
        """As fast as the broker acknowledges, every station in turn (the ceiling)."""
        acked_before = self._acked()
        sent = 0
        start = time.monotonic()
        end = start + seconds
        i = 0
        n = len(self.stations)
        while time.monotonic() < end:
            outstanding = sent - (self._acked() - acked_before)
            for _ in range(max(0, CEILING_OUTSTANDING - outstanding)):
                self.publish(self.stations[i % n])
                i += 1
                sent += 1
            self.pump(0.001)
        self._settle()
        return {"sent": sent, "seconds": time.monotonic() - start}

    def _acked(self) -> int:
        return sum(s.acked for s in self.stations)

    def _settle(self, seconds: float = 10.0) -> None:
        """Pump until every publish is written out (PUBACKs may follow)."""
        deadline = time.monotonic() + seconds
        while self.dirty and time.monotonic() < deadline:
            self.pump(0.01)
        self.pump(0.05)

    def close(self) -> None:
        for station in self.stations:
            station.client.disconnect()
        self.pump(0.1)


def _simulator_main(
    pipe: Connection, port: int, creds: list[tuple[str, str, str]], seed: int
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    sim = Simulator(port, creds, seed)
    pipe.send(sim.connect())
    while True:
        order, *args = pipe.recv()
        if order == "poisson":
            pipe.send(sim.run_poisson(*args))
        elif order == "flat":
            pipe.send(sim.run_flat_out(*args))
        elif order == "stop":
            sim.close()
            pipe.send("stopped")
            return


class Subscriber:
    """The ceiling's one subscriber: ``mosquitto_sub`` (the broker's own C client), QoS 1,
    MQTT 5, no database; a thread counts the messages its debug output (``-d``) reports."""

    def __init__(self, port: int, user: str, password: str, subscription: str, folder: Path):
        # Its options file, so that the password is not on a command line.
        config = folder / "sub-config"
        config.mkdir(exist_ok=True)
        options = config / "mosquitto_sub"
        options.touch(mode=0o600)
        options.write_text(f"-u {user}\n-P {password}\n")
        self.received = 0
        self.process = subprocess.Popen(  # noqa: S603 - the broker's own client
            [
                str(MOSQUITTO_SUB),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-V",
                "mqttv5",
                "-q",
                "1",
                "-t",
                subscription,
                "-d",
                "-F",
                ".",
            ],
            env={**os.environ, "XDG_CONFIG_HOME": str(config)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.thread = threading.Thread(target=self._count, daemon=True)
        self.thread.start()

    def _count(self) -> None:
        assert self.process.stdout is not None
        mark = b"received PUBLISH"
        tail = b""
        while chunk := os.read(self.process.stdout.fileno(), 1 << 20):
            text = tail + chunk
            self.received += text.count(mark)
            cut = max(0, len(text) - len(mark) + 1)
            tail = text[cut:]
            if mark in tail:  # counted already: keep only what cannot complete it
                tail = b""

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.thread.join(timeout=10)


# --- the measurement ----------------------------------------------------------------------


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


@dataclass
class Phase:
    stations: int
    multiple: float  # × the busy-day rate
    seconds: float
    target_per_s: float  # what the stations are to publish at that rate
    offered: int  # events the stations published
    stored: int  # of them, in the hub's table by the end of the drain
    in_window: int  # of them, stored during the window
    lags: list[float]  # s, one per offered event (censored ones: their age at the end)
    censored: int  # events not stored by the end of the drain
    worker_cpu_s: float
    postgres_cpu_s: float

    @property
    def offered_per_s(self) -> float:
        return self.offered / self.seconds

    @property
    def ingest_per_s(self) -> float:
        return self.in_window / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        """The worker's share of one core per 1,000 stations."""
        return self.worker_cpu_s / self.seconds * 1000 / self.stations


@dataclass
class Ceiling:
    stations: int
    seconds: float
    sent: int
    received: int

    @property
    def per_s(self) -> float:
        return self.received / self.seconds


@dataclass
class FleetRun:
    stations: int
    processes: int
    setup_s: float
    ceiling: Ceiling
    phases: list[Phase] = field(default_factory=list)
    resends: int = 0  # resend commands the hub issued (gaps it saw)


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

    def start_worker(self) -> None:
        env = {
            **os.environ,
            "FLEET_DATABASE_URL": self.db.url,
            "FLEET_MQTT_PORT": str(self.broker.port),
            "FLEET_MQTT_USER": self.broker.hub_user,
            "FLEET_MQTT_PASSWORD": self.broker.hub_password,
            "FLEET_MQTT_CLIENT_PREFIX": f"bench-{uuid.uuid4().hex[:6]}",
            "FLEET_MQTT_SESSION_EXPIRY_S": "0",
        }
        log = self.folder / "worker.log"
        with log.open("ab") as out:
            self.worker = subprocess.Popen(  # noqa: S603 - our own hub's command
                [sys.executable, "-m", "fleet.cli", "worker"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait(lambda: "subscribed" in log.read_text(), f"the worker's subscription ({log})")

    def stop_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait()
        self.worker = None

    def postmaster(self) -> int:
        return int((self.pg.data / "postmaster.pid").read_text().split()[0])

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


def _wait(check: Any, what: str, seconds: float = WAIT_S) -> None:
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
                target=_simulator_main,
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


def _phase(hub: Hub, fleet: Fleet, multiple: float, seconds: float, drain: float) -> Phase:
    assert hub.worker is not None
    worker, postmaster = hub.worker.pid, hub.postmaster()
    stored_before = int(hub.scalar("SELECT count(*) FROM events"))
    cpu0, pg0 = cpu_s(worker), children_cpu_s(postmaster)
    t0 = time.time()
    results = fleet.order("poisson", PER_STATION_1X * multiple, seconds)
    t1 = time.time()
    cpu1, pg1 = cpu_s(worker), children_cpu_s(postmaster)
    records = [r for result in results for r in result["records"]]
    window = t1 - t0
    target = stored_before + len(records)
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline and int(hub.scalar("SELECT count(*) FROM events")) < target:
        time.sleep(0.2)
    end = time.time()
    stored = {
        (station, int(seq)): float(lag)
        for station, seq, lag in hub.rows(
            "SELECT station, seq, extract(epoch FROM received_at - at) FROM events WHERE at >= :t0",
            t0=datetime.fromtimestamp(t0 - 1, UTC),
        )
    }
    in_window = int(
        hub.scalar(
            "SELECT count(*) FROM events WHERE received_at >= :t0 AND received_at <= :t1",
            t0=datetime.fromtimestamp(t0, UTC),
            t1=datetime.fromtimestamp(t1, UTC),
        )
    )
    lags: list[float] = []
    censored = 0
    for station, seq, at in records:
        lag = stored.get((station, seq))
        if lag is None:
            censored += 1
            lag = end - at
        lags.append(lag)
    return Phase(
        stations=len(hub.names),
        multiple=multiple,
        seconds=window,
        target_per_s=PER_STATION_1X * multiple * len(hub.names),
        offered=len(records),
        stored=len(records) - censored,
        in_window=in_window,
        lags=lags,
        censored=censored,
        worker_cpu_s=cpu1 - cpu0,
        postgres_cpu_s=pg1 - pg0,
    )


def _ceiling(hub: Hub, fleet: Fleet, seconds: float) -> Ceiling:
    from locker.uplink.messages import ROOT

    sub = Subscriber(
        hub.broker.port,
        hub.broker.hub_user,
        hub.broker.hub_password,
        f"{ROOT}/+/evt",
        hub.folder,
    )
    try:
        # Its output is block-buffered (a pipe): the window opens at the first count it
        # reports, not before, and closes when the publishers stop (±1 buffer, ~30 events).
        fleet.send("flat", seconds)
        deadline = time.monotonic() + WAIT_S
        while sub.received == 0:
            if time.monotonic() > deadline:
                raise SystemExit("bench.fleet: the ceiling's subscriber received nothing")
            time.sleep(0.005)
        before, t0 = sub.received, time.monotonic()
        results = fleet.collect()
        after, t1 = sub.received, time.monotonic()
        return Ceiling(
            stations=len(hub.names),
            seconds=t1 - t0,
            sent=sum(r["sent"] for r in results),
            received=after - before,
        )
    finally:
        sub.stop()


def run(
    stations: int,
    *,
    multiples: Sequence[float] = (1, 100),
    seconds: float = 60,
    ceiling_seconds: float = 15,
    drain: float = 30,
) -> FleetRun:
    """One fleet of ``stations``: every rate multiple in turn, then the broker's ceiling."""
    import tempfile

    processes = max(1, min(4, math.ceil(stations / STATIONS_PER_PROCESS)))
    if stations >= 500:
        processes = max(processes, 2)
    limit = raise_fd_limit(stations + 4096)  # the broker (our child) inherits it
    if limit < stations + 64:
        raise SystemExit(f"bench.fleet: {stations} stations need more than {limit} files open")
    began = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    hub = Hub(stations, folder)
    fleet: Fleet | None = None
    try:
        hub.start_worker()
        fleet = Fleet(hub, processes)
        _wait(
            lambda: int(hub.scalar("SELECT count(*) FROM station_state WHERE online")) == stations,
            "every station's birth in the hub",
        )
        setup = time.monotonic() - began
        print(f"  N={stations}: set up in {setup:.0f} s", file=sys.stderr, flush=True)
        phases = []
        for m in multiples:
            phases.append(_phase(hub, fleet, m, seconds, drain))
            print(f"  N={stations}: {m:g}× done", file=sys.stderr, flush=True)
        resends = int(hub.scalar("SELECT count(*) FROM commands WHERE type = 'resend'"))
        hub.stop_worker()
        ceiling = _ceiling(hub, fleet, ceiling_seconds)
        return FleetRun(stations, processes, setup, ceiling, phases, resends)
    finally:
        if fleet is not None:
            fleet.close()
        hub.close()
        shutil.rmtree(folder, ignore_errors=True)


def _s(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.0f} s"


def _lag(values: list[float], censored: int, pick: Any) -> str:
    if not values:
        return "no event"
    value = pick(values)
    # a percentile at or above the smallest censored age may be censored itself
    return ("≥ " if censored and value >= min(sorted(values)[-censored:]) else "") + _s(value)


def rows_of(result: FleetRun) -> list[Row]:
    ceiling = result.ceiling
    n = f"{result.stations:,}"
    rows = [
        Row(
            f"broker alone (the ceiling), N={n}: {ceiling.per_s:,.0f} events/s",
            f"{n} stations in {result.processes} process(es) publishing QoS 1 flat out, "
            f"one `mosquitto_sub` (QoS 1, no database), {ceiling.seconds:.0f} s, "
            f"{ceiling.received:,} of {ceiling.sent:,} received",
            "—",
            "",
            "",
            "1×",
        )
    ]
    for ph in result.phases:
        cpu_pct = ph.cpu_per_1000 * 100
        pg_pct = ph.postgres_cpu_s / ph.seconds * 1000 / ph.stations * 100
        left = f", {ph.censored:,} not in after the drain" if ph.censored else ""
        per_event = ph.worker_cpu_s / max(1, ph.in_window) * 1000
        rows.append(
            Row(
                f"hub ingest into PostgreSQL, N={n}, {ph.multiple:g}× busy day: "
                f"{ph.ingest_per_s:,.1f} events/s stored (offered {ph.offered_per_s:,.1f} of "
                f"{ph.target_per_s:,.1f}); lag station commit → hub row",
                f"{ph.offered:,} events in {ph.seconds:.0f} s{left}; hub worker CPU "
                f"{cpu_pct:.2f} % of a core per 1,000 stations, {per_event:.1f} ms an event "
                f"stored (PostgreSQL {pg_pct:.2f} %)",
                f"broker alone {ceiling.per_s:,.0f} events/s",
                _lag(ph.lags, ph.censored, p50),
                _lag(ph.lags, ph.censored, p99),
                f"{ph.ingest_per_s / ceiling.per_s:.3f}× ceiling",
            )
        )
    return rows


def measure(
    stations: Sequence[int],
    *,
    multiples: Sequence[float] = (1, 100),
    seconds: float = 60,
    ceiling_seconds: float = 15,
    drain: float = 30,
) -> list[Row]:
    rows: list[Row] = []
    for n in stations:
        result = run(
            n,
            multiples=multiples,
            seconds=seconds,
            ceiling_seconds=ceiling_seconds,
            drain=drain,
        )
        rows += rows_of(result)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", default="100,1000,10000", help="N, comma-separated")
    parser.add_argument("--rates", default="1,100", help="multiples of the busy-day rate")
    parser.add_argument("--seconds", type=float, default=60, help="each rate's window")
    parser.add_argument("--ceiling-seconds", type=float, default=15)
    parser.add_argument("--drain", type=float, default=30, help="catch-up after a window")
    args = parser.parse_args()
    began = time.monotonic()
    rows: list[Row] = []
    for n in (int(x) for x in args.stations.split(",")):
        result = run(
            n,
            multiples=[float(x) for x in args.rates.split(",")],
            seconds=args.seconds,
            ceiling_seconds=args.ceiling_seconds,
            drain=args.drain,
        )
        print(
            f"N={n} done ({time.monotonic() - began:.0f} s, set-up {result.setup_s:.0f} s,"
            f" {result.resends} resends asked)",
            flush=True,
        )
        rows += rows_of(result)
    print()
    print(
        f"`python -m bench.fleet` on {platform.node()} ({os.cpu_count()} cores), "
        f"Python {platform.python_version()}, {time.monotonic() - began:.0f} s in all"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
