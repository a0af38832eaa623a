"""``locker hub serve --workers 2``: the HTTP API and its workers in one command, on a real
Mosquitto and PostgreSQL, from a station's first event to a command's answer."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from fleet import accounts, registry
from fleet.db import HubDatabase
from fleet.engines import FleetBroker, free_port
from locker.uplink.messages import Command, CommandResult, topic
from tests.fleet.engines import WAIT, PeerFactory, PgDatabase
from tests.fleet.hub.support import T0, history
from tests.fleet.hub.test_worker import REPO, wait_for

PASSWORD = "a long enough password"  # noqa: S105


def test_serve_takes_events_and_gives_commands(
    pg_database: PgDatabase,
    hub_db: HubDatabase,
    fleet_broker: FleetBroker,
    mqtt: PeerFactory,
    tmp_path: Path,
) -> None:
    key = bytes.fromhex(registry.add_station(hub_db, "a", T0).command_key)
    accounts.add_operator(hub_db, "olga", PASSWORD, "operator", T0)
    port = free_port()
    prefix = f"hub-{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "FLEET_DATABASE_URL": pg_database.url,
        "FLEET_MQTT_PORT": str(fleet_broker.port),
        "FLEET_MQTT_USER": "hub",
        "FLEET_MQTT_PASSWORD": fleet_broker.hub_password,
        "FLEET_MQTT_CLIENT_PREFIX": prefix,
        "FLEET_DATA_DIR": str(tmp_path / "hub"),  # the share group is made there
        "FLEET_HTTP_PORT": str(port),
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "fleet.cli", "serve", "--workers", "2"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: f"{prefix}-0 subscribed" in log.read_text())
        wait_for(lambda: f"{prefix}-1 subscribed" in log.read_text())
        wait_for(lambda: "Uvicorn running" in log.read_text())
        with httpx.Client(base_url=base, timeout=WAIT) as http:
            signed_in = http.post("/api/v1/auth/token", json={"name": "olga", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
            a = mqtt(fleet_broker.port, *fleet_broker.credentials("a"))
            assert a.connect() == "Success"
            a.subscribe(topic("a", "cmd"))
            for e in history("a")[:6]:
                assert a.publish(topic("a", "evt"), e.payload()) == "Success"

            def applied() -> int:
                answer = http.get("/api/v1/stations/a", headers=headers)
                return int(answer.json()["events_applied"])

            wait_for(lambda: applied() == 6)
            given = http.post(
                "/api/v1/stations/a/commands",
                json={"type": "snapshot", "args": {}},
                headers=headers,
            ).json()
            # (two workers may take events out of order: resends may come before it)
            commands = (Command.model_validate_json(m.payload) for m in iter(a.expect, None))
            command = next(c for c in commands if c.type == "snapshot")
            assert command.id == given["id"]
            assert command.verify(key)
            done = CommandResult(command_id=command.id, station="a", ok=True, at=T0)
            assert a.publish(topic("a", "res"), done.payload()) == "Success"
            wait_for(
                lambda: (
                    http.get(f"/api/v1/commands/{command.id}", headers=headers).json()["state"]
                    == "ok"
                )
            )
    finally:
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=WAIT)
    text = log.read_text()
    assert code == 0, text[-2000:]
    group = (tmp_path / "hub" / "share-group").read_text().strip()
    assert re.fullmatch(r"hub-[0-9a-f]{32}", group)
    assert (tmp_path / "hub" / "share-group").stat().st_mode & 0o077 == 0
    assert f"{prefix}-0 stopped" in text
    assert f"{prefix}-1 stopped" in text  # the other worker process went with it
