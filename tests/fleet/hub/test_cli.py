"""``locker hub …`` on a real PostgreSQL; a station's printed settings let it into a real
Mosquitto whose password file is written from the registry."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

import fleet
from api.cli import app as locker_app
from fleet import accounts, broker, engines, registry
from fleet.cli import app
from fleet.db import HubDatabase
from tests.fleet.engines import PgDatabase
from tests.fleet.hub.support import T0

PASSWORD = "a long enough password"  # noqa: S105


def connack(port: int, user: str, password: str) -> str:
    """The broker's answer to a connection as ``user``."""
    codes: list[str] = []
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.username_pw_set(user, password)
    client.on_connect = lambda _c, _u, _f, rc, _p: codes.append(str(rc))
    client.connect("127.0.0.1", port)
    deadline = time.monotonic() + 10  # a bound on waiting, not an assertion
    while not codes and time.monotonic() < deadline:
        client.loop(timeout=0.2)
    client.disconnect()
    client.loop(timeout=0.2)  # sends the DISCONNECT and closes the socket
    return codes[0] if codes else "no answer"


def test_station_add_prints_settings_that_open_the_broker(
    pg_database: PgDatabase, hub_db: HubDatabase
) -> None:
    runner = CliRunner()
    env = {"FLEET_DATABASE_URL": pg_database.url, "FLEET_STATION_MQTT_HOST": "hub.example.org"}
    result = runner.invoke(app, ["station", "add", "shop-7"], env=env)
    assert result.exit_code == 0, result.output
    printed = dict(re.findall(r"^(LOCKER_[A-Z_]+)=(.*)$", result.stdout, re.MULTILINE))
    assert printed.keys() == {
        "LOCKER_HUB_STATION",
        "LOCKER_MQTT_HOST",
        "LOCKER_MQTT_PORT",
        "LOCKER_MQTT_USER",
        "LOCKER_MQTT_PASSWORD",
        "LOCKER_HUB_COMMAND_KEY",
    }
    assert (printed["LOCKER_HUB_STATION"], printed["LOCKER_MQTT_USER"]) == ("shop-7", "st-shop-7")
    assert (printed["LOCKER_MQTT_HOST"], printed["LOCKER_MQTT_PORT"]) == ("hub.example.org", "1883")
    assert len(bytes.fromhex(printed["LOCKER_HUB_COMMAND_KEY"])) == 32

    [(name, hashed)] = registry.stations(hub_db)
    assert name == "shop-7"
    assert printed["LOCKER_MQTT_PASSWORD"] not in hashed
    assert broker.check_password(printed["LOCKER_MQTT_PASSWORD"], hashed)

    again = runner.invoke(app, ["station", "add", "shop-7"], env=env)
    assert again.exit_code == 1
    assert "station_exists" in again.output
    bad = runner.invoke(app, ["station", "add", "Shop 7"], env=env)
    assert bad.exit_code == 1
    assert "invalid_name" in bad.output

    # The broker's password file from the registry lets the station in with what was printed.
    folder = engines.engine_folder("lps-hub-cli-")
    port = engines.free_port()
    users = [broker.BrokerUser(n, h) for n, h in registry.stations(hub_db)]
    broker.write_broker_files(folder, users, broker.hash_password("hub pw"), port=port)
    mosquitto = engines.Mosquitto(folder, port)
    mosquitto.start()
    try:
        assert connack(port, printed["LOCKER_MQTT_USER"], printed["LOCKER_MQTT_PASSWORD"]) == (
            "Success"
        )
        refused = connack(port, printed["LOCKER_MQTT_USER"], "wrong")
        assert refused in ("Not authorized", "Bad user name or password")
    finally:
        mosquitto.remove()


def test_account_add_and_db_upgrade(pg_database: PgDatabase, hub_db: HubDatabase) -> None:
    runner = CliRunner()
    env = {"FLEET_DATABASE_URL": pg_database.url}
    upgraded = runner.invoke(locker_app, ["hub", "db", "upgrade"], env=env)  # as `locker hub`
    assert upgraded.exit_code == 0, upgraded.output
    newest = max(
        p.name[:4] for p in (Path(fleet.__file__).parent / "migrations/versions").glob("0*.py")
    )
    assert f"hub schema at {newest}" in upgraded.output
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    made = runner.invoke(app, ["account", "add", "ada", "--role", "admin"], env=env, input=typed)
    assert made.exit_code == 0, made.output
    assert accounts.login(hub_db, "ada", PASSWORD, T0, timedelta(hours=1))
    unknown = runner.invoke(app, ["account", "add", "bo", "--role", "root"], env=env, input=typed)
    assert unknown.exit_code == 2


def test_an_unreachable_database_is_a_clear_refusal(pg_database: PgDatabase) -> None:
    url = pg_database.url.rsplit(":", 1)[0] + ":1/nothing"  # a port nobody listens on
    for command in (["db", "upgrade"], ["station", "add", "a"], ["worker"]):
        result = CliRunner().invoke(app, command, env={"FLEET_DATABASE_URL": url})
        assert result.exit_code == 3, (command, result.output)
        assert "database_unreachable" in result.output


def test_broker_config_lets_in_the_registered_stations_and_station_add_a_new_one_at_once(
    pg_database: PgDatabase, hub_db: HubDatabase, tmp_path: Path
) -> None:
    runner = CliRunner()
    port = engines.free_port()
    folder = engines.engine_folder("lps-mqtt-")
    env = {
        "FLEET_DATABASE_URL": pg_database.url,
        "FLEET_MQTT_PASSWORD": "the hub's own password",
        "FLEET_MQTT_PORT": str(port),
        "FLEET_DATA_DIR": str(tmp_path / "hub"),
    }
    first = runner.invoke(app, ["station", "add", "shop-1"], env=env)
    assert first.exit_code == 0, first.output
    assert "the broker was not told" in first.stderr  # none runs yet, no files of ours
    one = dict(re.findall(r"^(LOCKER_[A-Z_]+)=(.*)$", first.stdout, re.MULTILINE))
    made = runner.invoke(app, ["broker-config", "--out", str(folder)], env=env)
    assert made.exit_code == 0, made.output
    assert "1 station(s)" in made.stdout
    mosquitto = engines.Mosquitto(folder, port)
    mosquitto.start()
    try:
        assert connack(port, one["LOCKER_MQTT_USER"], one["LOCKER_MQTT_PASSWORD"]) == "Success"
        assert connack(port, one["LOCKER_MQTT_USER"], "wrong") == "Not authorized"
        assert connack(port, "hub", "the hub's own password") == "Success"
        # A station added while the broker runs: told through its control topic, in at once.
        second = runner.invoke(app, ["station", "add", "shop-2"], env=env)
        assert second.exit_code == 0, second.output
        assert "the broker lets shop-2 in now" in second.stderr
        two = dict(re.findall(r"^(LOCKER_[A-Z_]+)=(.*)$", second.stdout, re.MULTILINE))
        assert connack(port, two["LOCKER_MQTT_USER"], two["LOCKER_MQTT_PASSWORD"]) == "Success"
        # broker-config on a running broker writes nothing (the plugin owns its file) and
        # finds the registry and the broker agree.
        again = runner.invoke(app, ["broker-config", "--out", str(folder)], env=env)
        assert again.exit_code == 0, again.output
        assert "2 station(s)" in again.stdout
        assert "changed through its control topic" in again.stdout
        assert mosquitto.running  # never restarted
    finally:
        mosquitto.remove()


def test_a_worker_outside_the_hubs_count_is_refused_in_one_line() -> None:
    """Worker 1 of a hub of one worker (FLEET_WORKERS unset): a clear refusal, before it
    connects to anything, naming the setting."""
    result = CliRunner().invoke(app, ["worker", "--index", "1"], env={"FLEET_WORKERS": "1"})
    assert result.exit_code == 2
    assert "worker 1 is not one of 1" in result.output
    assert "FLEET_WORKERS=1" in result.output
    assert "Traceback" not in result.output
