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

import hashlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from select import select as readable

from fleet import accounts, broker, carriers, dynsec, registry
from fleet.db import HubDatabase
from fleet.demo_stations import (
    CONTROL,
    HUB_ENV,
    LOCKER,
    PROMPT,
    Demo,
    broker_tls,
    control_server,
    read_env,
    wait_for,
    wait_online,
    write_env,
)
from fleet.engines import (
    Mosquitto,
    Postgres,
    engine_folder,
    engine_user,
    free_port,
    hand_over,
)

STATIONS = ("demo-1", "demo-2", "demo-3")
STATE_FILE = "demo.env"  # the operator's password and the carrier's token, kept between runs


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
    fresh = os.environ.get("FRESH", "") not in ("", "0") or "--fresh" in sys.argv[1:]
    cluster = postgres_folder(home)
    kept = (home / STATE_FILE).exists() and (cluster / "data" / "PG_VERSION").exists()
    if fresh or not kept:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(cluster, ignore_errors=True)
        print(f"a new demo in {home} (it is kept for the next run; FRESH=1 starts anew)")
    else:
        print(f"using the demo's data in {home} (FRESH=1 to start anew)")
    home.mkdir(parents=True, exist_ok=True)
    count = int(os.environ.get("FLEET_DEMO_STATIONS", len(STATIONS)))
    names = tuple(f"demo-{n + 1}" for n in range(max(1, count)))
    with suppress(_Stopped):
        _run(home, names)
    print("the fleet demo stopped: its engines, hub and stations too")


def postgres_folder(home: Path) -> Path:
    """Where the hub's cluster is kept between runs: in the demo's folder, unless the
    engine user (when we are root) could not reach it there, because a folder on the way
    is closed to others (as those of ``mktemp -d`` and pytest are). Then in /var/tmp, under
    a name made from the demo's folder, and kept there between runs as well."""
    inside = home / "postgres"
    if engine_user() is None:
        return inside
    on_the_way = [p for p in (home, *home.parents) if p.exists()]
    if all(p.stat().st_mode & 0o001 for p in on_the_way):
        return inside
    tag = hashlib.sha256(str(home).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"lps-fleet-demo-{tag}" / "postgres"  # noqa: S108


def _postgres(home: Path) -> tuple[Postgres, bool]:
    """The hub's cluster (kept between runs); True when it is new."""
    folder = postgres_folder(home)
    folder.mkdir(parents=True, exist_ok=True)
    if folder != home / "postgres":
        print(f"the hub's PostgreSQL is kept in {folder} (the engine user cannot reach {home})")
    pg = Postgres(folder, durable=True)
    new = not (pg.data / "PG_VERSION").exists()
    hand_over(folder)
    if new:
        pg.initdb()
    return pg, new  # (a pid file left by a killed run: PostgreSQL sees it is stale)


def _run(home: Path, names: tuple[str, ...]) -> None:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCKER_", "FLEET_"))}
    now = datetime.now(UTC)
    with ExitStack() as stack:
        postgres, new = _postgres(home)
        postgres.start()
        stack.callback(postgres.stop)
        if new:
            postgres.create_database("fleet")
        db = HubDatabase(postgres.url("fleet"))
        stack.callback(db.close)
        db.upgrade()
        state = read_env(home / STATE_FILE)
        if "OPERATOR_PASSWORD" not in state:
            state["OPERATOR_PASSWORD"] = secrets.token_urlsafe(12)
            accounts.add_operator(db, "operator", state["OPERATOR_PASSWORD"], "admin", now)
        known = {name for name, _hashed in registry.stations(db)}
        for name in names:
            if name not in known or not (home / f"{name}.env").exists():
                c = registry.add_station(db, name, now)  # (again: a new password and key)
                write_env(
                    home / f"{name}.env",
                    {
                        "LOCKER_HUB_STATION": name,
                        "LOCKER_MQTT_USER": c.broker_user,
                        "LOCKER_MQTT_PASSWORD": c.broker_password,
                        "LOCKER_HUB_COMMAND_KEY": c.command_key,
                    },
                )
        extra = sorted(
            p.stem
            for p in home.glob("*.env")
            if p.stem not in names and p.name not in (STATE_FILE, HUB_ENV)
        )  # stations added with `locker hub station add` in an earlier run

        mqtt_folder = engine_folder("lps-mqtt-")
        mqtt_port = free_port()
        hub_password = broker.new_password()
        users = [broker.BrokerUser(name, hashed) for name, hashed in registry.stations(db)]
        tls, ca_file = broker_tls(mqtt_folder, home)
        dynsec.apply_broker_config(mqtt_folder, users, hub_password, port=mqtt_port, tls=tls)
        mosquitto = Mosquitto(mqtt_folder, mqtt_port)
        mosquitto.start()
        stack.callback(mosquitto.remove)

        hub_port = free_port()
        hub_settings = {
            "FLEET_DATABASE_URL": postgres.url("fleet"),
            "FLEET_MQTT_HOST": "127.0.0.1",
            "FLEET_MQTT_PORT": str(mqtt_port),
            "FLEET_MQTT_USER": broker.HUB_USER,
            "FLEET_MQTT_PASSWORD": hub_password,
            "FLEET_HTTP_PORT": str(hub_port),
            "FLEET_DATA_DIR": str(home / "hub"),
            # what `locker hub station add` prints: the broker's TLS listener, the demo's CA
            "FLEET_STATION_MQTT_HOST": "127.0.0.1",
            "FLEET_STATION_MQTT_PORT": str(tls.port),
            "FLEET_STATION_MQTT_TLS": "true",
            "FLEET_STATION_MQTT_CA_FILE": str(ca_file),
        }
        write_env(home / HUB_ENV, hub_settings)
        hub_log = home / "hub.log"
        hub = stack.enter_context(
            _process([*LOCKER, "hub", "serve"], {**base_env, **hub_settings}, hub_log)
        )
        wait_for(f"http://127.0.0.1:{hub_port}/docs", hub, hub_log)

        demo = Demo(home, db, base_env)
        demo.ca_file, demo.tls_port = ca_file, tls.port
        stack.callback(demo.stop_all)
        printed = {name: demo.station(name).start() for name in (*names, *extra)}
        wait_online(db, (*names, *extra), home)
        control = control_server(demo)
        stack.callback(control.server_close)
        stack.callback(control.shutdown)
        stack.callback(lambda: (home / CONTROL).unlink(missing_ok=True))

        operator_password = state["OPERATOR_PASSWORD"]
        print(f"fleet demo in {home} (logs there); Ctrl-C stops everything")
        print(
            f"hub: http://127.0.0.1:{hub_port}/ (API: /docs)   operator: operator / "
            f"{operator_password} (also in {home / STATE_FILE})"
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
        for name, lines in printed.items():
            port = demo.stations[name].port
            print(f"{name}: http://127.0.0.1:{port}/kiosk  /courier  /staff  /sim")
            for line in lines:
                print(f"  {line}")
        print(
            "  the couriers' tokens are new at each start (the station prints them, "
            f"also in {home}/NAME.log); the customer's code shows on the courier's screen "
            "when the door is closed"
        )
        # A demo carrier (issue 18): the demo stations' couriers work for "Demo Parcel Co"
        # (api/serve.py), so what it announces through the hub they deposit.
        for n, name in enumerate(names):
            carriers.set_place(
                db,
                name,
                address=f"Demostraße {n + 1}, 1011{n} Berlin",
                opening_hours="Mo-Sa 07:00-22:00",
                postcode=f"1011{n}",
                latitude=52.52 + n / 100,
                longitude=13.40 + n / 100,
            )
        if "CARRIER_TOKEN" not in state:
            state["CARRIER_TOKEN"] = carriers.add_carrier(
                db, "Demo Parcel Co", names, "", now
            ).token
        write_env(home / STATE_FILE, state)
        print(f"carrier: Demo Parcel Co   token: {state['CARRIER_TOKEN']}")
        print(
            f"  announce a parcel: curl -s -X POST http://127.0.0.1:{hub_port}"
            "/api/v1/carrier/announcements "
            f"-H 'authorization: Bearer {state['CARRIER_TOKEN']}' "
            "-H 'content-type: application/json' "
            '-d \'{"tracking_number": "DEMO-1", "size": "M", "recipient_name": "Ida Lund", '
            '"recipient_postcode": "10111"}\''
        )
        print(f"database: postgresql://lps@127.0.0.1:{postgres.port}/fleet (psql works)")
        print(
            f"broker: stations over TLS on 127.0.0.1:{tls.port}, the hub on 127.0.0.1:"
            f"{mqtt_port} (dynamic security: {mqtt_folder / broker.DYNSEC_FILE})"
        )
        more = f"demo-{len(names) + len(extra) + 1}"
        print(
            f"one more station: (set -a; . {home / HUB_ENV}; locker hub station add {more} > "
            f"{home / (more + '.env')}), then type `start {more}` here"
        )
        print(
            f"stop or start one station: type `stop 2` / `start 2` here, or run "
            f"`locker hub demo stop demo-2 --dir {home}` elsewhere"
        )
        print(
            f"the {_count(len(names) + len(extra))} stations are online, over TLS to the broker "
            f"on 127.0.0.1:{tls.port} (they trust only the demo's CA, {ca_file}, "
            "and check its name)"
        )
        print(PROMPT)
        sys.stdout.flush()
        _loop(demo)


def _count(n: int) -> str:
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    return words.get(n, str(n))


def _loop(demo: Demo) -> None:
    """Until Ctrl-C (_stop): the lines typed here, and a look at the stations each second."""
    reading = sys.stdin is not None and not sys.stdin.closed
    while True:
        for said in demo.watch():
            print(said, flush=True)
        if not reading:
            time.sleep(1)
            continue
        try:
            ready, _, _ = readable([sys.stdin], [], [], 1.0)
        except (OSError, ValueError):
            reading = False
            continue
        if not ready:
            continue
        line = sys.stdin.readline()
        if not line:  # end of input (no terminal): the demo runs on, watching
            reading = False
            continue
        answer = demo.command(line)
        if answer:
            print(answer, flush=True)


if __name__ == "__main__":
    main()
