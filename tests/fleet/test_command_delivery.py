"""Commands on their way, over the real engines (Mosquitto with the generated configuration,
PostgreSQL, a station as ``locker serve`` runs it): a command that never reached the broker is
published again while its station is online, not only at its next birth; one the broker has
is not; and a command the station cannot apply, or cannot even read, is answered with a
refusal the hub stores, never left ``sent``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from fleet import broker, commands
from fleet.commands import AnnounceArgs, OutOfServiceArgs
from fleet.tables import CommandRow
from locker.store.tables import HubCommand
from locker.uplink.messages import topic
from tests.api.live import LiveStation, live_station, wait_until
from tests.fleet.engines import PeerFactory, PgDatabase
from tests.fleet.test_fleet_end_to_end import Fleet, fleet, hub_state, station_dir


def row(f: Fleet, command_id: str) -> CommandRow:
    with f.db.transaction() as session:
        found = session.get(CommandRow, command_id)
        assert found is not None
        session.expunge(found)
        return found


def answered(f: Fleet, command_id: str) -> CommandRow:
    wait_until(lambda: row(f, command_id).state != "sent", timeout_s=30)
    return row(f, command_id)


def times_applied(live: LiveStation, command_id: str) -> int:
    with live.runtime.station.db.read() as session:
        return len(session.exec(select(HubCommand).where(HubCommand.id == command_id)).all())


def announce(f: Fleet, tracking: str) -> str:
    """A command recorded by the hub (``sent``), as an operator's request does."""
    with f.db.transaction() as session:
        issued = commands.issue(
            session,
            "a",
            "announce",
            AnnounceArgs(
                tracking_number=tracking, carrier="Parcel Co", size="S", recipient_name="Bo"
            ),
            by="operator:ida",
            now=datetime.now(UTC),
        )
    return issued.id


def test_a_command_that_never_reached_the_broker_is_published_while_the_station_is_online(
    tmp_path: Path, pg_database: PgDatabase
) -> None:
    with (
        fleet(tmp_path, pg_database, command_retry_s=2.0) as f,
        live_station(station_dir(tmp_path), **f.station_env) as live,
    ):
        wait_until(lambda: hub_state(f).online, timeout_s=30)
        # Published and acknowledged: the broker has it; it is answered, never sent again.
        with f.db.transaction() as session:
            first = commands.issue(
                session,
                "a",
                "announce",
                AnnounceArgs(tracking_number="T-1", carrier="Co", size="S", recipient_name="A"),
                by="operator:ida",
                now=datetime.now(UTC),
            )
        f.worker.publish(first)
        assert answered(f, first.id).state == "ok"
        wait_until(lambda: row(f, first.id).reached_broker_at is not None)
        assert row(f, first.id).published_at is None  # the sweep never took it again
        # Recorded, then the hub went down before it published (or the broker would not
        # take it): the station stays online, there is no birth to bring it; the sweep does.
        lost = announce(f, "T-2")
        done = answered(f, lost)
        assert done.state == "ok", (done.problem_code, done.problem_detail)
        assert done.published_at is not None  # published by the sweep
        wait_until(lambda: row(f, lost).reached_broker_at is not None)
        assert times_applied(live, lost) == 1
        assert hub_state(f).online  # no new birth was needed


def test_a_command_for_a_station_offline_waits_for_it_and_is_not_swept(
    tmp_path: Path, pg_database: PgDatabase
) -> None:
    with fleet(tmp_path, pg_database, command_retry_s=0.2) as f:
        waiting = announce(f, "T-3")
        f.worker.delivery.sweep(datetime.now(UTC))  # the station was never online
        assert row(f, waiting).published_at is None
        with live_station(station_dir(tmp_path), **f.station_env):
            assert answered(f, waiting).state == "ok"  # at its birth, as before


def test_a_command_the_station_cannot_apply_is_refused_and_the_refusal_stored(
    tmp_path: Path, pg_database: PgDatabase, mqtt: PeerFactory
) -> None:
    with (
        fleet(tmp_path, pg_database) as f,
        live_station(station_dir(tmp_path), **f.station_env) as live,
    ):
        wait_until(lambda: hub_state(f).online, timeout_s=30)
        # A number its database cannot hold (a hub of another version signed it): the
        # station refuses it (by its contract, or when it cannot apply it) and answers.
        huge = OutOfServiceArgs.model_construct(compartment_id=2**70, reason="test")
        with f.db.transaction() as session:
            unstorable = commands.issue(
                session, "a", "out_of_service", huge, by="operator:ida", now=datetime.now(UTC)
            )
        f.worker.publish(unstorable)
        refused = answered(f, unstorable.id)
        assert refused.state == "refused"
        assert refused.problem_code in ("cannot_apply", "invalid_request")
        assert times_applied(live, unstorable.id) == 1  # kept: a replay gets the same answer
        # A command this station cannot even read (a type of a newer hub): refused by id.
        newer = uuid.uuid4().hex
        with f.db.transaction() as session:
            session.add(
                CommandRow(
                    id=newer,
                    station="a",
                    type="open_sesame",
                    args={},
                    by="operator:ida",
                    issued_at=datetime.now(UTC),
                )
            )
        hub = mqtt(f.mosquitto.port, broker.HUB_USER, f.settings.mqtt_password.get_secret_value())
        assert hub.connect() == "Success"
        body = {
            "id": newer,
            "station": "a",
            "type": "open_sesame",
            "args": {},
            "issued_at": datetime.now(UTC).isoformat(),
        }
        assert hub.publish(topic("a", "cmd"), json.dumps(body).encode()) == "Success"
        unknown = answered(f, newer)
        assert unknown.state == "refused"
        assert unknown.problem_code == "unreadable_command"
        assert "type" in (unknown.problem_detail or "")
        assert times_applied(live, newer) == 0  # nothing of it was applied
