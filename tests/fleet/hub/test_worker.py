"""The MQTT worker between a real Mosquitto and a real PostgreSQL: messages acknowledged
only once stored, commands back to the station, and a worker killed mid-stream loses
nothing while another shares the load."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from fleet import partitions, registry
from fleet.db import HubDatabase
from fleet.engines import FleetBroker
from fleet.settings import HubSettings
from fleet.worker import Worker
from locker.testkit import crashpoints
from locker.uplink.messages import Command, Event, partition, topic
from tests.fleet.engines import WAIT, MqttPeer, PeerFactory, PgDatabase
from tests.fleet.hub.support import T0, event, history

REPO = Path(__file__).resolve().parents[3]


def wait_for(check: Callable[[], bool], seconds: float = WAIT) -> None:
    """Wait until ``check()`` holds (a bound on waiting, never an assertion on time)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not so after {seconds} s: {check}")
        time.sleep(0.05)


def count(db: HubDatabase, sql: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


@pytest.fixture
def settings(fleet_broker: FleetBroker, pg_database: PgDatabase) -> HubSettings:
    return HubSettings(
        database_url=pg_database.url,
        mqtt_port=fleet_broker.port,
        mqtt_user="hub",
        mqtt_password=fleet_broker.hub_password,
        mqtt_client_prefix=f"hub-{uuid.uuid4().hex[:6]}",
        mqtt_share_group=fleet_broker.share_group,
        resend_every_s=3600,  # a gap is asked for once
        gap_grace_s=0.5,
    )


@pytest.fixture
def keys(hub_db: HubDatabase) -> dict[str, bytes]:
    return {
        name: bytes.fromhex(registry.add_station(hub_db, name, T0).command_key)
        for name in ("a", "b")
    }


@pytest.fixture
def worker(hub_db: HubDatabase, settings: HubSettings) -> Iterator[Worker]:
    w = Worker(hub_db, settings)
    w.start()
    assert w.subscribed.wait(WAIT)
    yield w
    w.stop()


def station(fleet_broker: FleetBroker, mqtt: PeerFactory, name: str) -> MqttPeer:
    peer = mqtt(fleet_broker.port, *fleet_broker.credentials(name))
    assert peer.connect() == "Success"
    assert [c.value for c in peer.subscribe(topic(name, "cmd"))] == [1]
    return peer


def send(peer: MqttPeer, events: list[Event]) -> None:
    for e in events:
        assert peer.publish(topic(e.station, "evt"), e.payload()) == "Success"


def test_events_go_in_and_a_gap_brings_a_signed_resend_to_the_station(
    worker: Worker,
    hub_db: HubDatabase,
    keys: dict[str, bytes],
    fleet_broker: FleetBroker,
    mqtt: PeerFactory,
) -> None:
    a = station(fleet_broker, mqtt, "a")
    e = history("a")
    send(a, e[:4] + e[5:7])
    got = a.expect(lambda m: m.topic == topic("a", "cmd"))
    command = Command.model_validate_json(got.payload)
    assert (command.type, command.args, got.qos) == ("resend", {"from_seq": 5}, 1)
    assert command.verify(keys["a"])
    send(a, e[4:5])
    wait_for(
        lambda: count(hub_db, "SELECT contiguous_seq FROM station_state WHERE station='a'") == 7
    )
    # A bad payload is dropped; the worker goes on.
    assert a.publish(topic("a", "evt"), b"not json at all") == "Success"
    send(a, e[7:8])
    wait_for(
        lambda: count(hub_db, "SELECT contiguous_seq FROM station_state WHERE station='a'") == 8
    )
    assert worker.ingest.dropped == {"not_json": 1}
    # What the API gives goes to that station only.
    b = station(fleet_broker, mqtt, "b")
    with hub_db.transaction() as session:
        from fleet import commands

        given = commands.issue(session, "b", "snapshot", commands.SnapshotArgs(), by="olga", now=T0)
    worker.publish(given)
    assert Command.model_validate_json(b.expect().payload) == given
    assert [m.topic for m in a.received()] == []


def test_a_message_is_acknowledged_only_once_it_is_stored(
    worker: Worker,
    hub_db: HubDatabase,
    keys: dict[str, bytes],
    pg_database: PgDatabase,
    fleet_broker: FleetBroker,
    mqtt: PeerFactory,
) -> None:
    a = station(fleet_broker, mqtt, "a")
    e = history("a")
    send(a, e[:3])
    wait_for(lambda: count(hub_db, "SELECT count(*) FROM events") == 3)
    pg_database.stop()  # the database goes away: nothing can be stored, nothing is acknowledged
    send(a, e[3:10])
    wait_for(lambda: not worker.subscribed.is_set())  # it let go to have them again
    pg_database.start()
    wait_for(lambda: count(hub_db, "SELECT count(*) FROM events") == 10, seconds=60)
    assert count(hub_db, "SELECT contiguous_seq FROM station_state WHERE station = 'a'") == 10


def test_a_message_that_fails_every_time_is_dropped_after_a_few_tries(
    worker: Worker,
    hub_db: HubDatabase,
    keys: dict[str, bytes],
    fleet_broker: FleetBroker,
    mqtt: PeerFactory,
) -> None:
    """JSON nested too deep for the parser fails in no expected way: the worker tries it
    again (it could be passing trouble), then drops it rather than stop the stream."""
    a = station(fleet_broker, mqtt, "a")
    assert a.publish(topic("a", "evt"), b"[" * 100_000) == "Success"
    send(a, history("a")[:2])
    wait_for(
        lambda: count(hub_db, "SELECT contiguous_seq FROM station_state WHERE station='a'") == 2
    )
    assert worker.ingest.dropped == {"failed": 1}
    assert count(hub_db, "SELECT count FROM ingest_dropped WHERE reason = 'failed'") == 1


def start_worker(
    settings: HubSettings, index: int, log: Path, **more: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FLEET_DATABASE_URL": settings.database_url.get_secret_value(),
        "FLEET_MQTT_PORT": str(settings.mqtt_port),
        "FLEET_MQTT_USER": settings.mqtt_user,
        "FLEET_MQTT_PASSWORD": settings.mqtt_password.get_secret_value(),
        "FLEET_MQTT_CLIENT_PREFIX": settings.mqtt_client_prefix,
        "FLEET_MQTT_SHARE_GROUP": settings.mqtt_share_group.get_secret_value(),
        "FLEET_RESEND_EVERY_S": "3600",
        **more,
    }
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "fleet.cli", "worker", "--index", str(index)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


ODD = ("a", "b")  # their partitions are odd: worker 1's of two (partitions go p % 2)
EVEN = ("d", "g")  # even: worker 0's
HALVES = (
    frozenset(p for p in partitions.ALL if p % 2 == 0),
    frozenset(p for p in partitions.ALL if p % 2 == 1),
)


def test_the_stations_named_here_fall_in_each_workers_half() -> None:
    assert all(partition(name) in HALVES[1] for name in ODD)
    assert all(partition(name) in HALVES[0] for name in EVEN)


def capacity_events(names: tuple[str, ...], first: int, last: int) -> list[Event]:
    """``capacity`` events ``first`` … ``last`` of every station, the stations in turn."""
    return [
        event(name, seq, "capacity", free={"M": seq})
        for seq in range(first, last + 1)
        for name in names
    ]


def all_in(db: HubDatabase, names: tuple[str, ...], last: int) -> bool:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT station, contiguous_seq FROM station_state")).all()
    return all(dict(rows).get(name) == last for name in names)


def test_two_workers_split_the_stations_by_partition(
    hub_db: HubDatabase,
    settings: HubSettings,
    keys: dict[str, bytes],
    fleet_broker: FleetBroker,
    mqtt: PeerFactory,
) -> None:
    """Worker 0 of two takes the even partitions, worker 1 the odd ones: each station's
    messages go to one worker only, and one worker alone takes every partition."""
    names = ODD + EVEN
    for name in EVEN:
        registry.add_station(hub_db, name, T0)
        fleet_broker.add_station(name)
    peers = {name: station(fleet_broker, mqtt, name) for name in names}
    alone = Worker(hub_db, settings, index=0)
    assert alone.partitions == partitions.ALL
    two = settings.model_copy(update={"workers": 2})
    workers = [Worker(hub_db, two, index=i) for i in (0, 1)]
    assert tuple(w.partitions for w in workers) == HALVES
    with pytest.raises(ValueError, match="not one of 2"):
        Worker(hub_db, two, index=2)
    for w in workers:
        w.start()
    try:
        for w in workers:
            assert w.subscribed.wait(WAIT)
        for e in capacity_events(names, 1, 50):
            send(peers[e.station], [e])
        wait_for(lambda: all_in(hub_db, names, 50))
    finally:
        for w in workers:
            w.stop()
    assert set(workers[0].by_partition) == {partition(n) for n in EVEN}
    assert set(workers[1].by_partition) == {partition(n) for n in ODD}
    assert sum(w.handled for w in workers) == 50 * len(names)
    with hub_db.engine.connect() as conn:
        free = dict(conn.execute(sa.text("SELECT station, free FROM station_state")).all())
    assert all(free[name] == {"M": 50} for name in names)


def test_two_workers_share_the_stream_and_one_killed_midway_loses_nothing(
    settings: HubSettings,
    hub_db: HubDatabase,
    keys: dict[str, bytes],
    fleet_broker: FleetBroker,
    mqtt: PeerFactory,
    tmp_path: Path,
) -> None:
    """SIGKILLed mid-stream, worker 0's session holds what comes for its stations (and what
    was in flight to it) while worker 1 goes on with its own; restarted under its client id,
    worker 0 gets all of it back."""
    names = ODD + EVEN
    for name in EVEN:
        registry.add_station(hub_db, name, T0)
        fleet_broker.add_station(name)
    logs = [tmp_path / "worker-0.log", tmp_path / "worker-1.log"]
    workers = [start_worker(settings, i, logs[i], FLEET_WORKERS="2") for i in (0, 1)]
    try:
        for log in logs:
            wait_for(lambda log=log: "subscribed (32 partitions of 64)" in log.read_text())
        each = 750
        total = each * len(names)
        peers = {name: station(fleet_broker, mqtt, name) for name in names}
        sent = [
            peers[e.station].client.publish(topic(e.station, "evt"), e.payload(), qos=1)
            for e in capacity_events(names, 1, each)
        ]
        wait_for(lambda: count(hub_db, "SELECT count(*) FROM events") >= total // 5)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=WAIT)
        stored_at_kill = count(hub_db, "SELECT count(*) FROM events")
        assert stored_at_kill < total  # the worker died mid-stream
        # Worker 1 stores all of its own stations' events meanwhile.
        wait_for(lambda: all_in(hub_db, ODD, each))
        for info in sent:
            info.wait_for_publish(timeout=WAIT)
        workers[0] = start_worker(settings, 0, logs[0], FLEET_WORKERS="2")  # its session back
        wait_for(lambda: count(hub_db, "SELECT count(*) FROM events") == total, seconds=120)
        wait_for(lambda: all_in(hub_db, names, each))
        assert count(hub_db, "SELECT count(DISTINCT (station, seq)) FROM events") == total
        with hub_db.engine.connect() as conn:
            free = dict(conn.execute(sa.text("SELECT station, free FROM station_state")).all())
        assert all(free[name] == {"M": each} for name in names)
        assert "session present: True" in logs[0].read_text()
        resends = count(hub_db, "SELECT count(*) FROM commands WHERE type = 'resend'")
    finally:
        for process in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in workers:
            process.wait(timeout=WAIT)
    # Both took their share: the one that was never killed, and the killed one once back.
    handled = [int(n) for log in logs for n in re.findall(r"stopped after (\d+)", log.read_text())]
    assert len(handled) == 2
    assert min(handled) > 0
    print(f"stored when a worker was killed: {stored_at_kill} of {total}", end="; ")
    print(f"handled after: {handled}; resends asked: {resends}")


@pytest.mark.parametrize("point", crashpoints.HUB_POINTS)
def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing_and_stores_nothing_twice(
    settings: HubSettings,
    hub_db: HubDatabase,
    keys: dict[str, bytes],
    fleet_broker: FleetBroker,
    mqtt: PeerFactory,
    tmp_path: Path,
    point: str,
) -> None:
    """SIGKILLed at its third batch: with the batch's rows written and not committed
    (``ingest_batch_open``: PostgreSQL rolls them back), or committed and not one of its
    messages acknowledged (``ingest_batch_committed``: the broker gives them all again).
    Restarted under its client id, the worker gets its session back: every event is
    stored once and applied once, in order."""
    log = tmp_path / "worker.log"
    worker = start_worker(settings, 0, log, **{crashpoints.ENV: f"{point}:3"})
    try:
        wait_for(lambda: "subscribed" in log.read_text())
        total = 2000
        a = station(fleet_broker, mqtt, "a")
        events = [event("a", seq, "capacity", free={"M": seq}) for seq in range(1, total + 1)]
        sent = [a.client.publish(topic("a", "evt"), e.payload(), qos=1) for e in events]
        assert worker.wait(timeout=WAIT) == -signal.SIGKILL
        assert f"crash point {point}: SIGKILL" in log.read_text()
        stored_at_kill = count(hub_db, "SELECT count(*) FROM events")
        assert stored_at_kill < total  # killed mid-stream
        for info in sent:
            info.wait_for_publish(timeout=WAIT)  # the broker holds the rest meanwhile
        worker = start_worker(settings, 0, log)
        wait_for(
            lambda: (
                count(hub_db, "SELECT contiguous_seq FROM station_state WHERE station='a'") == total
            ),
            seconds=120,
        )
        assert count(hub_db, "SELECT count(*) FROM events") == total
        assert count(hub_db, "SELECT count(DISTINCT seq) FROM events") == total
        assert count(hub_db, "SELECT count(DISTINCT event_id) FROM events") == total
        with hub_db.engine.connect() as conn:
            free = conn.execute(
                sa.text("SELECT free FROM station_state WHERE station = 'a'")
            ).scalar_one()
        assert free == {"M": total}
        assert "session present: True" in log.read_text()
        assert count(hub_db, "SELECT count(*) FROM ingest_dropped") == 0
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=WAIT)
    handled = [int(n) for n in re.findall(r"stopped after (\d+)", log.read_text())]
    assert handled
    assert handled[-1] > 0
    print(f"{point}: {stored_at_kill} of {total} stored at the kill; after: {handled}")
