"""``locker hub service install --root``: the units pass ``systemd-analyze verify`` (Debian's
systemd, no running systemd needed), the broker's configuration runs on Debian's Mosquitto
with the registry's stations over TLS and the workers on loopback, a second install keeps
the password and the CA, and uninstall removes the units only."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from fleet import registry
from fleet.db import HubDatabase
from fleet.engines import Mosquitto, engine_folder, free_port, hand_over
from fleet.service import read_settings
from tests.fleet.engines import PeerFactory, PgDatabase

ANALYZE = Path("/usr/bin/systemd-analyze")
UNITS = "etc/systemd/system"


def verify(root: Path, *units: str) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` of units by name, found in ``root``'s unit folder first
    and then in the system's (Debian's mosquitto.service, with our drop-in)."""
    env = {**os.environ, "SYSTEMD_UNIT_PATH": f"{root / UNITS}:"}
    return subprocess.run(  # noqa: S603 - Debian's systemd-analyze
        [str(ANALYZE), "verify", *units], env=env, capture_output=True, text=True, check=False
    )


def install(root: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["hub", "service", "install", "--root", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.skipif(not ANALYZE.exists(), reason="Debian's systemd (make test installs it)")
def test_the_hubs_units_pass_systemd_analyze_verify_and_a_broken_one_does_not(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    install(
        root,
        "--workers",
        "3",
        "--name",
        "127.0.0.1",
        "--database-url",
        "postgresql+psycopg://x@127.0.0.1:1/none",
    )
    units = root / UNITS
    assert sorted(p.name for p in units.rglob("*") if p.is_file()) == [
        "locker-hub-worker@.service",
        "locker-hub.conf",
        "locker-hub.service",
    ]
    hub = (units / "locker-hub.service").read_text()
    assert "serve --workers 3 --no-spawn" in hub
    for line in (
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "Restart=on-failure",
        "User=locker-hub",
    ):
        assert line in hub.splitlines()
        assert line in (units / "locker-hub-worker@.service").read_text().splitlines()
    worker = (units / "locker-hub-worker@.service").read_text()
    assert "Environment=FLEET_WORKERS=3" in worker.splitlines()
    assert "worker --index %i" in worker
    drop_in = (units / "mosquitto.service.d" / "locker-hub.conf").read_text()
    assert f"-c {root}/var/lib/locker-hub/broker/mosquitto.conf" in drop_in

    named = ["locker-hub.service", "locker-hub-worker@1.service", "locker-hub-worker@2.service"]
    if Path("/lib/systemd/system/mosquitto.service").exists():
        named.append("mosquitto.service")  # Debian's unit, with the hub's drop-in
    done = verify(root, *named)
    assert (done.returncode, done.stderr) == (0, "")

    # the check has teeth: a unit that names a program that is not there fails it
    (units / "locker-hub.service").write_text(hub.replace("ExecStart=/", "ExecStart=/nonexistent/"))
    assert verify(root, "locker-hub.service").returncode != 0


@pytest.fixture
def broker_root() -> Iterator[Path]:
    """A root the broker (the engine user, when the tests run as root) can reach."""
    folder = engine_folder("lps-hub-root-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_broker_runs_on_the_written_files_stations_over_tls_workers_on_loopback(
    broker_root: Path, pg_database: PgDatabase, mqtt: PeerFactory
) -> None:
    db = HubDatabase(pg_database.url)
    db.upgrade()
    creds = registry.add_station(db, "shop-7", datetime.now(UTC))
    db.close()
    root, plain, tls = broker_root, free_port(), free_port()
    args = [
        "--name",
        "127.0.0.1",
        "--database-url",
        pg_database.url,
        "--mqtt-port",
        str(plain),
        "--tls-port",
        str(tls),
    ]
    out = install(root, *args)
    ca = root / "etc/locker-hub/tls/ca.pem"
    assert f"stations trust {ca}" in out
    settings = read_settings(root / "etc/locker-hub/hub.env")
    assert settings["FLEET_STATION_MQTT_PORT"] == str(tls)
    conf = (root / "var/lib/locker-hub/broker/mosquitto.conf").read_text().splitlines()
    assert "autosave_interval 2" in conf
    assert f"listener {plain} 127.0.0.1" in conf
    assert f"listener {tls} 0.0.0.0" in conf

    folder = root / "var/lib/locker-hub/broker"
    hand_over(folder)  # the broker runs as the engine user when the tests run as root
    hand_over(root / "etc/locker-hub/tls")
    engine = Mosquitto(folder, plain)
    engine.start()
    try:
        station = mqtt(tls, creds.broker_user, creds.broker_password, tls_ca=ca)
        assert not station.connect().is_failure  # over TLS, the name 127.0.0.1 checked
        hub = mqtt(plain, "hub", settings["FLEET_MQTT_PASSWORD"])
        assert not hub.connect().is_failure  # the workers' loopback listener
        stranger = mqtt(tls, creds.broker_user, "not the password", tls_ca=ca)
        assert stranger.connect().is_failure
    finally:
        engine.stop()

    # again: the broker password and the CA are kept, so the stations keep working
    ca_before = ca.read_bytes()
    install(root, *args)
    assert read_settings(root / "etc/locker-hub/hub.env") == settings
    assert ca.read_bytes() == ca_before

    runner = CliRunner()
    status = runner.invoke(app, ["hub", "service", "status", "--root", str(root)])
    assert status.output.splitlines() == ["mosquitto.service written", "locker-hub.service written"]
    gone = runner.invoke(app, ["hub", "service", "uninstall", "--root", str(root)])
    assert gone.exit_code == 0, gone.output
    assert not any((root / UNITS).rglob("*.service"))
    assert not (root / UNITS / "mosquitto.service.d/locker-hub.conf").exists()
    assert (root / "etc/locker-hub/hub.env").exists()
    assert ca.exists()
    status = runner.invoke(app, ["hub", "service", "status", "--root", str(root)])
    assert status.output.splitlines() == ["mosquitto.service missing", "locker-hub.service missing"]


def test_settings_by_file_reach_the_hubs_commands(tmp_path: Path) -> None:
    """FLEET_ENV_FILE: what an operator gives `locker hub …` on a hub installed as services."""
    env = tmp_path / "hub.env"
    env.write_text("FLEET_DATABASE_URL=postgresql+psycopg://nobody@127.0.0.1:1/none\n")
    runner = CliRunner()
    done = runner.invoke(app, ["hub", "db", "upgrade"], env={"FLEET_ENV_FILE": str(env)})
    assert done.exit_code == 3
    assert "port 1" in done.output
    missing = runner.invoke(
        app, ["hub", "db", "upgrade"], env={"FLEET_ENV_FILE": str(tmp_path / "no")}
    )
    assert missing.exit_code == 2
    assert "no such file" in missing.output
