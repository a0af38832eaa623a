"""``make fleet``: a hub with three demo stations on one machine, with no configuration.

It starts, each in a folder of its own and on 127.0.0.1 only: a PostgreSQL cluster (the
hub's database), a Mosquitto broker with the hub's generated users and ACLs, the hub
(``locker hub serve``: its API and an MQTT worker), and three stations (``locker serve
--demo``, each on its simulator and SQLite file, joined to the hub by settings only). It
prints where every screen is and the passwords, then runs until Ctrl-C and stops it all.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from fleet import accounts, broker, carriers, dynsec, registry
from fleet.db import HubDatabase
from fleet.engines import Mosquitto, Postgres, engine_folder, free_port

STATIONS = ("demo-1", "demo-2", "demo-3")
LOCKER = [sys.executable, "-c", "from api.cli import app; app()"]


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process ended ({process.returncode}); see {log}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer in {timeout:.0f} s; see {log}")


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _lines(log: Path, *starts: str) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith(starts)]


def main() -> None:
    home = Path(os.environ.get("FLEET_DEMO_DIR", "var/fleet-demo")).resolve()
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKER_", "FLEET_"))}
    now = datetime.now(UTC)
    with ExitStack() as stack:
        postgres = Postgres.create(durable=True)
        postgres.start()
        stack.callback(postgres.remove)
        postgres.create_database("fleet")
        db = HubDatabase(postgres.url("fleet"))
        stack.callback(db.close)
        db.upgrade()
        operator_password = secrets.token_urlsafe(12)
        accounts.add_operator(db, "operator", operator_password, "admin", now)
        creds = {name: registry.add_station(db, name, now) for name in STATIONS}

        mqtt_folder = engine_folder("lps-mqtt-")
        mqtt_port = free_port()
        hub_password = broker.new_password()
        users = [broker.BrokerUser(name, hashed) for name, hashed in registry.stations(db)]
        dynsec.apply_broker_config(mqtt_folder, users, hub_password, port=mqtt_port)
        mosquitto = Mosquitto(mqtt_folder, mqtt_port)
        mosquitto.start()
        stack.callback(mosquitto.remove)

        hub_port = free_port()
        hub_env = {
            **base_env,
            "FLEET_DATABASE_URL": postgres.url("fleet"),
            "FLEET_MQTT_HOST": "127.0.0.1",
            "FLEET_MQTT_PORT": str(mqtt_port),
            "FLEET_MQTT_USER": broker.HUB_USER,
            "FLEET_MQTT_PASSWORD": hub_password,
            "FLEET_HTTP_PORT": str(hub_port),
            "FLEET_DATA_DIR": str(home / "hub"),
        }
        hub_log = home / "hub.log"
        hub = stack.enter_context(_process([*LOCKER, "hub", "serve"], hub_env, hub_log))
        _wait_for(f"http://127.0.0.1:{hub_port}/docs", hub, hub_log)

        station_ports = {}
        for name in STATIONS:
            port = free_port()
            station_ports[name] = port
            c = creds[name]
            env = {
                **base_env,
                "LOCKER_DATA_DIR": str(home / name),
                "LOCKER_HUB_STATION": name,
                "LOCKER_MQTT_HOST": "127.0.0.1",
                "LOCKER_MQTT_PORT": str(mqtt_port),
                "LOCKER_MQTT_USER": c.broker_user,
                "LOCKER_MQTT_PASSWORD": c.broker_password,
                "LOCKER_HUB_COMMAND_KEY": c.command_key,
            }
            log = home / f"{name}.log"
            process = stack.enter_context(
                _process([*LOCKER, "serve", "--demo", "--port", str(port)], env, log)
            )
            _wait_for(f"http://127.0.0.1:{port}/healthz", process, log)

        print(f"fleet demo in {home} (logs there); Ctrl-C stops everything")
        print(
            f"hub API: http://127.0.0.1:{hub_port}/docs   operator: operator / {operator_password}"
        )
        print(
            f"  a token: curl -s -X POST http://127.0.0.1:{hub_port}/api/v1/auth/token "
            f"-H 'content-type: application/json' "
            f'-d \'{{"name": "operator", "password": "{operator_password}"}}\''
        )
        print(f"  the fleet: GET http://127.0.0.1:{hub_port}/api/v1/stations (bearer token)")
        # The operators' screen (fleet/screens): watch each step of a parcel there, live.
        print(
            f"fleet screen: http://127.0.0.1:{hub_port}/fleet/   "
            f"sign in as operator / {operator_password} (an admin: also Central staff)"
        )
        print(
            "  deposit a parcel at a station's /courier screen, collect it at its /kiosk: "
            "its row and its station's page follow each step"
        )
        for name in STATIONS:
            port = station_ports[name]
            print(f"{name}: http://127.0.0.1:{port}/kiosk  /courier  /staff  /sim")
            for line in _lines(home / f"{name}.log", "first start", "courier screen", "simulator"):
                print(f"  {line}")
        # A demo carrier (issue 18): the demo stations' couriers work for "Demo Parcel Co"
        # (api/serve.py), so what it announces through the hub they deposit.
        for n, name in enumerate(STATIONS):
            carriers.set_place(
                db,
                name,
                address=f"Demostraße {n + 1}, 1011{n} Berlin",
                opening_hours="Mo-Sa 07:00-22:00",
                postcode=f"1011{n}",
                latitude=52.52 + n / 100,
                longitude=13.40 + n / 100,
            )
        carrier = carriers.add_carrier(db, "Demo Parcel Co", STATIONS, "", now)
        print(f"carrier: Demo Parcel Co   token: {carrier.token}")
        print(
            f"  announce a parcel: curl -s -X POST http://127.0.0.1:{hub_port}"
            "/api/v1/carrier/announcements "
            f"-H 'authorization: Bearer {carrier.token}' -H 'content-type: application/json' "
            '-d \'{"tracking_number": "DEMO-1", "size": "M", "recipient_name": "Ida Lund", '
            '"recipient_postcode": "10111"}\''
        )
        print(f"broker: 127.0.0.1:{mqtt_port} (users in {mqtt_folder})")
        sys.stdout.flush()
        stopped = False

        def stop(_signum: int, _frame: object) -> None:
            nonlocal stopped
            stopped = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopped:
            time.sleep(0.5)
        print("stopping the fleet demo")


if __name__ == "__main__":
    main()
