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
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from select import select as readable

from sqlmodel import col, select

from fleet import accounts, broker, carriers, dynsec, registry
from fleet.db import HubDatabase
from fleet.engines import Mosquitto, Postgres, engine_folder, free_port, hand_over
from fleet.pki import Authority
from fleet.tables import StationState

STATIONS = ("demo-1", "demo-2", "demo-3")
LOCKER = [sys.executable, "-c", "from api.cli import app; app()"]
STATE_FILE = "demo.env"  # the operator's password and the carrier's token, kept between runs
HUB_ENV = "hub.env"  # the hub's FLEET_* settings: `locker hub station add` with them
CONTROL = "demo.sock"  # `locker hub demo stop|start|status` talks to the running demo here
PROMPT = "type `stop NAME`, `start NAME`, `status` (NAME as demo-2 or 2); Ctrl-C stops everything"


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


def _env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (what ``locker hub station add`` prints); ``#`` lines skipped."""
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith("#")}


def _write_env(path: Path, values: dict[str, str]) -> None:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)


class Station:
    """One demo station: its settings (``NAME.env`` in the demo's folder), its port, its
    process while it runs, and whether the demo already said it ended."""

    def __init__(self, demo: Demo, name: str) -> None:
        self.demo = demo
        self.name = name
        self.port = free_port()
        self.log = demo.home / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.told = False

    @property
    def env_file(self) -> Path:
        return self.demo.home / f"{self.name}.env"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> list[str]:
        """Start it (its SQLite file and uplink state are where it left them) and return
        the lines it printed at this start that a person needs (tokens, passwords)."""
        settings = _env_file(self.env_file)
        env = {
            **self.demo.base_env,
            "LOCKER_MQTT_TLS": "true",
            "LOCKER_MQTT_CA_FILE": str(self.demo.ca_file),
            **{k: v for k, v in settings.items() if k.startswith("LOCKER_")},
            "LOCKER_MQTT_HOST": "127.0.0.1",  # this run's broker, whatever the file says
            "LOCKER_MQTT_PORT": str(self.demo.tls_port),
            "LOCKER_DATA_DIR": str(self.demo.home / self.name),
        }
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own station command
                [*LOCKER, "serve", "--demo", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.told = False
        _wait_for(f"http://127.0.0.1:{self.port}/healthz", self.process, self.log)
        with self.log.open("rb") as log:
            log.seek(offset)
            printed = log.read().decode(errors="replace").splitlines()
        wanted = ("first start", "demo courier token", "courier screen", "simulator")
        lines = [line for line in printed if line.startswith(wanted)]
        first = self.demo.home / f"{self.name}.first-start"
        said = [line for line in lines if line.startswith(("first start", "courier screen"))]
        if said:  # one-time passwords: shown once by the station, kept for the next runs
            first.write_text("\n".join(said) + "\n")
            first.chmod(0o600)
        elif first.exists():
            lines += [
                f"{line} (said at its first start; void once that password was changed)"
                for line in first.read_text().splitlines()
            ]
        return lines

    def stop(self) -> int | None:
        """SIGTERM, as Ctrl-C would: it ends cleanly (its uplink resends what the broker
        did not take when it is started again). Returns its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def ended(self) -> int | None:
        """Its exit status once, when it ended without being asked (it is reaped here)."""
        if self.process is None or self.told:
            return None
        code = self.process.poll()
        if code is None:
            return None
        self.told = True
        return code


class Demo:
    """The running demo's stations, and what a person may do to them while it runs."""

    def __init__(self, home: Path, db: HubDatabase, base_env: dict[str, str]) -> None:
        self.home = home
        self.db = db
        self.base_env = base_env
        self.ca_file = home / "tls" / "demo-ca.pem"
        self.tls_port = 0
        self.stations: dict[str, Station] = {}
        self.lock = threading.Lock()  # the terminal and the control socket, one at a time

    def station(self, name: str) -> Station:
        if name not in self.stations:
            self.stations[name] = Station(self, name)
        return self.stations[name]

    def resolve(self, word: str) -> str:
        """``2`` is ``demo-2``; any other name is itself."""
        return f"demo-{word}" if word.isdigit() else word

    def command(self, line: str) -> str:
        """One line typed at the demo's terminal (or sent by ``locker hub demo``)."""
        words = line.split()
        if not words:
            return ""
        verb, args = words[0].lower(), words[1:]
        with self.lock:
            if verb == "status":
                return self.status()
            if verb in ("stop", "start") and len(args) == 1:
                name = self.resolve(args[0])
                return self._stop(name) if verb == "stop" else self._start(name)
        return f"not understood: {line.strip()!r}; {PROMPT}"

    def status(self) -> str:
        online = _online(self.db)
        lines = []
        for name, st in sorted(self.stations.items()):
            where = f"http://127.0.0.1:{st.port}" if st.running else "stopped"
            hub = "online" if name in online else "offline"
            lines.append(f"{name}: {where} (the hub sees it {hub})")
        return "\n".join(lines)

    def _stop(self, name: str) -> str:
        st = self.stations.get(name)
        if st is None or not st.running:
            return f"{name} is not running"
        code = st.stop()
        return f"{name} stopped (exit {code}); type `start {name}` to start it again"

    def _start(self, name: str) -> str:
        st = self.stations.get(name)
        if st is not None and st.running:
            return f"{name} runs already: http://127.0.0.1:{st.port}"
        if st is None and not (self.home / f"{name}.env").exists():
            return (
                f"no station {name} here: register it with `locker hub station add {name} > "
                f"{self.home / (name + '.env')}` (with the settings of {self.home / HUB_ENV}), "
                f"then `start {name}`"
            )
        st = self.station(name)
        try:
            lines = st.start()
        except SystemExit as exc:  # it did not come up: say why, keep the demo
            st.process = None
            return str(exc)
        try:
            _wait_online(self.db, (name,), self.home, timeout=30)
        except SystemExit as exc:
            return f"{name} started at http://127.0.0.1:{st.port}, but {exc}"
        shown = "".join(f"\n  {line}" for line in lines)
        return (
            f"{name} started: http://127.0.0.1:{st.port}/kiosk  /courier  /staff  /sim; "
            f"the hub sees it online and gets what it did meanwhile{shown}"
        )

    def watch(self) -> list[str]:
        """What ended without being asked since the last look (each process reaped)."""
        with self.lock:
            said = []
            for name, st in sorted(self.stations.items()):
                code = st.ended()
                if code is not None:
                    how = f"killed by signal {-code}" if code < 0 else f"exit {code}"
                    said.append(
                        f"station {name} stopped ({how}); type `start {name}` to restart it"
                    )
            return said

    def stop_all(self) -> None:
        for st in self.stations.values():
            st.stop()


def _online(db: HubDatabase) -> set[str]:
    with db.transaction() as session:
        return set(session.exec(select(StationState.station).where(col(StationState.online))).all())


class _Control(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _control_server(demo: Demo) -> _Control:
    """``locker hub demo stop|start|status`` (fleet/cli.py): one line in, the answer out."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            line = self.rfile.readline(200).decode(errors="replace")
            answer = demo.command(line)
            print(f"> {line.strip()}\n{answer}", flush=True)
            self.wfile.write(answer.encode() + b"\n")

    path = demo.home / CONTROL
    path.unlink(missing_ok=True)
    server = _Control(str(path), Handler)
    path.chmod(0o600)
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-control").start()
    return server


def send(home: Path, line: str, timeout: float = 90) -> str:
    """Send one line to the demo running in ``home``; its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(home / CONTROL))
        sock.sendall(line.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode().rstrip("\n")


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
    kept = (home / STATE_FILE).exists() and (home / "postgres" / "data" / "PG_VERSION").exists()
    if fresh or not kept:
        shutil.rmtree(home, ignore_errors=True)
        print(f"a new demo in {home} (it is kept for the next run; FRESH=1 starts anew)")
    else:
        print(f"using the demo's data in {home} (FRESH=1 to start anew)")
    home.mkdir(parents=True, exist_ok=True)
    count = int(os.environ.get("FLEET_DEMO_STATIONS", len(STATIONS)))
    names = tuple(f"demo-{n + 1}" for n in range(max(1, count)))
    with suppress(_Stopped):
        _run(home, names)
    print("the fleet demo stopped: its engines, hub and stations too")


def _postgres(home: Path) -> tuple[Postgres, bool]:
    """The hub's cluster in the demo's folder (kept between runs); True when it is new."""
    folder = home / "postgres"
    folder.mkdir(exist_ok=True)
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
        state = _env_file(home / STATE_FILE)
        if "OPERATOR_PASSWORD" not in state:
            state["OPERATOR_PASSWORD"] = secrets.token_urlsafe(12)
            accounts.add_operator(db, "operator", state["OPERATOR_PASSWORD"], "admin", now)
        known = {name for name, _hashed in registry.stations(db)}
        for name in names:
            if name not in known or not (home / f"{name}.env").exists():
                c = registry.add_station(db, name, now)  # (again: a new password and key)
                _write_env(
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
        tls, ca_file = _broker_tls(mqtt_folder, home)
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
        _write_env(home / HUB_ENV, hub_settings)
        hub_log = home / "hub.log"
        hub = stack.enter_context(
            _process([*LOCKER, "hub", "serve"], {**base_env, **hub_settings}, hub_log)
        )
        _wait_for(f"http://127.0.0.1:{hub_port}/docs", hub, hub_log)

        demo = Demo(home, db, base_env)
        demo.ca_file, demo.tls_port = ca_file, tls.port
        stack.callback(demo.stop_all)
        printed = {name: demo.station(name).start() for name in (*names, *extra)}
        _wait_online(db, (*names, *extra), home)
        control = _control_server(demo)
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
        _write_env(home / STATE_FILE, state)
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
