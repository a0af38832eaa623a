"""The engines start, answer and stop: PostgreSQL (psycopg, SQLAlchemy) and Mosquitto (MQTT 5)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import sqlalchemy

from fleet.engines import FleetBroker, Postgres, port_accepts
from locker.uplink.messages import every, topic
from tests.fleet.engines import WAIT, PeerFactory, PgDatabase


def test_postgres_answers_on_loopback_and_comes_back_after_a_stop(pg_database: PgDatabase) -> None:
    with psycopg.connect(pg_database.dsn) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (42)")
    pg_database.stop()
    assert not port_accepts(pg_database.server.port)
    pg_database.start()
    engine = sqlalchemy.create_engine(pg_database.url)
    with engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("SELECT x FROM t")).scalar_one() == 42
        assert conn.execute(sqlalchemy.text("SHOW server_version")).scalar_one().startswith("15")
    engine.dispose()


def test_each_test_gets_an_empty_database(pg_database: PgDatabase, pg_server: Postgres) -> None:
    with psycopg.connect(pg_database.dsn) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname='public'")
        assert tables.fetchone() == (0,)
        assert conn.execute("SELECT current_database()").fetchone() == (pg_database.name,)
    assert pg_database.server is pg_server


def test_broker_carries_a_message_and_keeps_it_over_a_restart(
    fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    hub = mqtt(fleet_broker.port, "hub", fleet_broker.hub_password)
    assert hub.connect() == "Success"
    assert [c.value for c in hub.subscribe(every("evt"))] == [1]
    station = mqtt(fleet_broker.port, *fleet_broker.credentials("a"))
    assert station.connect() == "Success"
    assert station.publish(topic("a", "evt"), b'{"n": 1}') == "Success"
    got = hub.expect()
    assert (got.topic, got.payload) == (topic("a", "evt"), b'{"n": 1}')
    station.publish(topic("a", "state"), b"online", retain=True)
    hub.close()
    station.close()

    fleet_broker.stop()
    assert not port_accepts(fleet_broker.port)
    fleet_broker.start()  # same port, same persistence: the retained state is still there
    again = mqtt(fleet_broker.port, "hub", fleet_broker.hub_password)
    assert again.connect() == "Success"
    again.subscribe(topic("a", "state"))
    kept = again.expect()
    assert (kept.topic, kept.payload, kept.retain) == (topic("a", "state"), b"online", True)


def test_engines_run_unprivileged_and_only_on_loopback(
    pg_database: PgDatabase, fleet_broker: FleetBroker
) -> None:
    with psycopg.connect(pg_database.dsn) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert pid is not None
        assert fleet_broker.engine.process is not None
        # read while the connection is open: its backend process ends with it
        for engine_pid in (pid[0], fleet_broker.engine.process.pid):
            status = Path(f"/proc/{engine_pid}/status").read_text()
            uid = next(line for line in status.splitlines() if line.startswith("Uid:"))
            assert int(uid.split()[1]) != 0
    assert f"listener {fleet_broker.port} 127.0.0.1" in fleet_broker.engine.conf.read_text()


def test_a_crashed_cluster_recovers_what_was_committed(pg_private: PgDatabase) -> None:
    with psycopg.connect(pg_private.dsn) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (1)")
    pg_private.stop("immediate")  # no checkpoint: the next start replays the WAL
    assert not port_accepts(pg_private.server.port)
    pg_private.start()
    with psycopg.connect(pg_private.dsn) as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert "database system was interrupted" in pg_private.server.log.read_text()


def test_a_killed_broker_starts_again_on_its_port(
    fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    station = mqtt(fleet_broker.port, *fleet_broker.credentials("a"))
    assert station.connect() == "Success"
    fleet_broker.kill()  # SIGKILL: no save, the pid file left behind
    assert station.disconnects.get(timeout=WAIT) is not None
    assert not port_accepts(fleet_broker.port)
    fleet_broker.start()
    again = mqtt(fleet_broker.port, *fleet_broker.credentials("a"))
    assert again.connect() == "Success"
