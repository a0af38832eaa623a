"""A station added while the fleet runs (hub worker, broker, a station already reporting)
connects at once: ``locker hub station add`` tells the running broker through its control
topic, and a station started with the printed settings is online at the hub, without the
broker being restarted; its role lets it subscribe to its own commands only."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from fleet.cli import app
from fleet.tables import StationState
from locker.uplink.messages import topic
from tests.api.live import live_station, wait_until
from tests.fleet.engines import PeerFactory, PgDatabase
from tests.fleet.test_fleet_end_to_end import fleet, hub_state, station_dir

NOT_AUTHORIZED = 0x87


def test_a_station_added_while_the_fleet_runs_connects_at_once(
    tmp_path: Path, pg_database: PgDatabase, mqtt: PeerFactory
) -> None:
    with (
        fleet(tmp_path, pg_database) as f,
        live_station(station_dir(tmp_path), **f.station_env),
    ):
        wait_until(lambda: hub_state(f).online, timeout_s=30)
        broker_pid = f.mosquitto.process.pid if f.mosquitto.process else None
        env = {
            "FLEET_DATABASE_URL": pg_database.url,
            "FLEET_MQTT_HOST": "127.0.0.1",
            "FLEET_MQTT_PORT": str(f.mosquitto.port),
            "FLEET_MQTT_PASSWORD": f.settings.mqtt_password.get_secret_value(),
            "FLEET_DATA_DIR": str(tmp_path / "hub-cli"),
        }
        added = CliRunner().invoke(app, ["station", "add", "late"], env=env)
        assert added.exit_code == 0, added.output
        assert "the broker lets late in now" in added.stderr
        printed = dict(re.findall(r"^LOCKER_([A-Z_]+)=(.*)$", added.stdout, re.MULTILINE))
        # Its own broker user can subscribe to its own commands only, right away.
        peer = mqtt(f.mosquitto.port, printed["MQTT_USER"], printed["MQTT_PASSWORD"])
        assert peer.connect() == "Success"
        assert [c.value for c in peer.subscribe(topic("late", "cmd"))] == [1]
        assert [c.value for c in peer.subscribe(topic("a", "cmd"))] == [NOT_AUTHORIZED]
        peer.disconnect()
        late_env = {
            "hub_station": "late",
            "mqtt_host": "127.0.0.1",
            "mqtt_port": int(printed["MQTT_PORT"]),
            "mqtt_user": printed["MQTT_USER"],
            "mqtt_password": printed["MQTT_PASSWORD"],
            "hub_command_key": printed["HUB_COMMAND_KEY"],
            "mqtt_keepalive_s": 5,
        }
        late_dir = tmp_path / "late"
        late_dir.mkdir()
        with live_station(late_dir, **late_env):

            def late_online() -> bool:
                with f.db.transaction() as session:
                    state = session.get(StationState, "late")
                    return state is not None and state.online

            wait_until(late_online, timeout_s=30)
        assert f.mosquitto.process is not None
        assert f.mosquitto.process.pid == broker_pid  # the same broker throughout
        assert hub_state(f).online  # the first station never left
