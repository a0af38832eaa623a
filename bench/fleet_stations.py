"""The simulated stations of the fleet bench: lightweight MQTT 5 clients in a few processes,
each process driving its share from one epoll loop, publishing a station's events as
Poisson arrivals; and the plain subscriber that measures the broker's ceiling.
"""

from __future__ import annotations

import os
import random
import resource
import selectors
import signal
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WAIT_S = 180.0  # a bound on waiting for what should happen (connections, births)


EVENTS_PER_DAY = 310 * 5  # InPost's busy day: 310 parcels a machine, 5 events each


DAY_S = 86_400.0


MOSQUITTO_SUB = Path(os.environ.get("LPS_MOSQUITTO_SUB", "/usr/bin/mosquitto_sub"))


STATIONS_PER_PROCESS = 2500


CEILING_OUTSTANDING = 2000  # unacknowledged publishes a simulator process keeps in flight


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

    def run_burst(self, count: int) -> dict[str, Any]:
        """``count`` events, every station in turn, as fast as the broker takes them (the
        hub's capacity: the broker queues what the workers have not taken yet)."""
        acked_before = self._acked()
        sent = 0
        start = time.monotonic()
        n = len(self.stations)
        while sent < count:
            outstanding = sent - (self._acked() - acked_before)
            for _ in range(min(count - sent, max(0, CEILING_OUTSTANDING - outstanding))):
                self.publish(self.stations[sent % n])
                sent += 1
            self.pump(0.001)
        # A client keeps what is beyond its in-flight window until PUBACKs come back: pump
        # until the broker has every one (the workers are measured on all of them).
        deadline = time.monotonic() + WAIT_S
        while self._acked() - acked_before < sent and time.monotonic() < deadline:
            self.pump(0.01)
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


def simulator_main(
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
        elif order == "burst":
            pipe.send(sim.run_burst(*args))
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
