"""The demo's stations as processes: start, stop, reap, and the control socket.

``fleet.demo`` starts the hub and its engines, then hands its stations to a :class:`Demo`,
which ``locker hub demo stop|start|status`` reaches through the socket ``demo.sock``.
"""

from __future__ import annotations

import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlmodel import col, select

from fleet import broker
from fleet.db import HubDatabase
from fleet.engines import free_port, hand_over
from fleet.pki import Authority
from fleet.tables import StationState

LOCKER = [sys.executable, "-c", "from api.cli import app; app()"]
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


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the process ended ({process.returncode}); see {log}")
        if _answers(url):
            return
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer in {timeout:.0f} s; see {log}")


def wait_online(db: HubDatabase, names: tuple[str, ...], home: Path, timeout: float = 60) -> None:
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


def broker_tls(folder: Path, home: Path) -> tuple[broker.TlsListener, Path]:
    """The demo's CA (its certificate in ``home``, what the stations trust) and the broker's
    TLS listener on loopback with a certificate it signed for 127.0.0.1 and localhost."""
    authority = Authority("fleet demo CA")
    ca_file = authority.write_ca(home / "tls" / "demo-ca.pem")
    server = authority.issue(folder / "tls", "broker", ("127.0.0.1", "localhost"))
    hand_over(folder / "tls")  # the broker (the engine user, as root) reads its key
    return broker.TlsListener(server.cert, server.key, port=free_port(), bind="127.0.0.1"), ca_file


def read_env(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (what ``locker hub station add`` prints); ``#`` lines skipped."""
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith("#")}


def write_env(path: Path, values: dict[str, str]) -> None:
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
        settings = read_env(self.env_file)
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
        wait_for(f"http://127.0.0.1:{self.port}/healthz", self.process, self.log)
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
            wait_online(self.db, (name,), self.home, timeout=30)
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


def control_server(demo: Demo) -> _Control:
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
