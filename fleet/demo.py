"""``make fleet``: a hub with three demo stations on one machine, with no configuration.

It starts, each in a folder of its own and on 127.0.0.1 only: a PostgreSQL cluster (the
hub's database), a Mosquitto broker with the hub's generated users, roles and ACLs (the
dynamic-security plugin), the hub (``locker hub serve``: its API and an MQTT worker), and
three stations (``locker serve --demo``, each on its simulator and SQLite file, joined to
the hub by settings only). The stations reach the broker over TLS, as they would across the
internet: the demo makes a CA of its own (:mod:`fleet.pki`), the broker's TLS listener has
a certificate it signed for 127.0.0.1, and each station trusts only that CA and checks the
name; the hub's worker stays on the plain loopback listener. It waits until the hub sees the
three stations online, prints where every screen is and the passwords, then runs until
Ctrl-C and stops it all.

Only the run dependencies are used (no test extras): ``make fleet`` works on a fresh clone.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import col, select

from fleet import accounts, broker, carriers, dynsec, registry
from fleet.db import HubDatabase
from fleet.engines import Mosquitto, Postgres, engine_folder, free_port, hand_over
from fleet.pki import Authority
from fleet.tables import StationState

STATIONS = ("demo-1", "demo-2", "demo-3")
LOCKER = [sys.executable, "-c", "from api.cli import app; app()"]


def _answers(url: str) -> bool:
    """Does ``url`` (ours, on 127.0.0.1) answer without a server error?"""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - http on loopback
            return int(response.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process ended ({process.returncode}); see {log}")
        if _answers(url):
            return
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer in {timeout:.0f} s; see {log}")


def _wait_online(db: HubDatabase, names: tuple[str, ...], home: Path, timeout: float = 60) -> None:
    """Until the hub has every station's birth (it came over TLS, through the broker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.transaction() as session:
            online = set(
                session.exec(
                    select(StationState.station).where(
                        col(StationState.station).in_(names), col(StationState.online)
                    )
                ).all()
            )
        if online == set(names):
            return
        time.sleep(0.2)
    raise SystemExit(f"the hub did not see every station online in {timeout:.0f} s; see {home}")


def _broker_tls(folder: Path, home: Path) -> tuple[broker.TlsListener, Path]:
    """The demo's CA (its certificate in ``home``, what the stations trust) and the broker's
    TLS listener on loopback with a certificate it signed for 127.0.0.1 and localhost."""
    authority = Authority("fleet demo CA")
    ca_file = authority.write_ca(home / "tls" / "demo-ca.pem")
    server = authority.issue(folder / "tls", "broker", ("127.0.0.1", "localhost"))
    hand_over(folder / "tls")  # the broker (the engine user, as root) reads its key
    return broker.TlsListener(server.cert, server.key, port=free_port(), bind="127.0.0.1"), ca_file


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


class _Stopped(BaseException):
    """Ctrl-C or SIGTERM, at any moment (also while starting): everything started stops."""


def _stop(_signum: int, _frame: object) -> None:
    print("stopping the fleet demo", flush=True)
    for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C does not cut the clean-up
        signal.signal(sig, signal.SIG_IGN)
    raise _Stopped


def main() -> None:
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    home = Path(os.environ.get("FLEET_DEMO_DIR", "var/fleet-demo")).resolve()
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    with suppress(_Stopped):
        _run(home)
    print("the fleet demo stopped: its engines, hub and stations too")


def _run(home: Path) -> None:
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
        tls, ca_file = _broker_tls(mqtt_folder, home)
        dynsec.apply_broker_config(mqtt_folder, users, hub_password, port=mqtt_port, tls=tls)
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
                "LOCKER_MQTT_PORT": str(tls.port),
                "LOCKER_MQTT_TLS": "true",
                "LOCKER_MQTT_CA_FILE": str(ca_file),
                "LOCKER_MQTT_USER": c.broker_user,
                "LOCKER_MQTT_PASSWORD": c.broker_password,
                "LOCKER_HUB_COMMAND_KEY": c.command_key,
            }
            log = home / f"{name}.log"
            process = stack.enter_context(
                _process([*LOCKER, "serve", "--demo", "--port", str(port)], env, log)
            )
            _wait_for(f"http://127.0.0.1:{port}/healthz", process, log)
        _wait_online(db, STATIONS, home)

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
        print(f"database: postgresql://lps@127.0.0.1:{postgres.port}/fleet (psql works)")
        print(
            f"broker: stations over TLS on 127.0.0.1:{tls.port}, the hub on 127.0.0.1:"
            f"{mqtt_port} (dynamic security: {mqtt_folder / broker.DYNSEC_FILE})"
        )
        print(
            f"the three stations are online, over TLS to the broker on 127.0.0.1:{tls.port} "
            f"(they trust only the demo's CA, {ca_file}, and check its name)"
        )
        sys.stdout.flush()
        while True:  # until Ctrl-C (_stop)
            time.sleep(3600)


if __name__ == "__main__":
    main()
