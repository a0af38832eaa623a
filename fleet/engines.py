"""Start and stop the hub's engines in a folder: a PostgreSQL cluster and a Mosquitto broker.

For the tests and ``make fleet``: both listen on 127.0.0.1 only, on a free port, with all
their files in one temporary folder. As root the engines run as an unprivileged system user
(PostgreSQL refuses root), created on first use when missing; the folder is handed to it.
The folder must be reachable by that user: :func:`engine_folder` makes one under the system's
temporary directory (``/tmp``), which every user may traverse.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from fleet import broker
from fleet.dynsec import BrokerControl

PG_BIN = Path(os.environ.get("LPS_PG_BIN", "/usr/lib/postgresql/15/bin"))
MOSQUITTO = Path(os.environ.get("LPS_MOSQUITTO", "/usr/sbin/mosquitto"))
ENGINE_USER = os.environ.get("LPS_ENGINE_USER", "lps-engine")
PG_SUPERUSER = "lps"
# Debug too, so the log shows what the ACL denied ("Denied PUBLISH from ...").
LOG_TYPES = ("error", "warning", "notice", "information", "debug")


class EngineError(RuntimeError):
    """An engine would not start or stop; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def engine_user() -> tuple[int, int] | None:
    """``(uid, gid)`` to run the engines as, or None when we are not root (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(ENGINE_USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed arguments
            [
                "/usr/sbin/useradd",
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--user-group",
                ENGINE_USER,
            ],
            check=False,  # another process may have created it meanwhile: looked up below
            capture_output=True,
        )
        entry = pwd.getpwnam(ENGINE_USER)
    return entry.pw_uid, entry.pw_gid


def engine_folder(prefix: str) -> Path:
    """A new empty folder under the temporary directory, owned by the engine user."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    hand_over(folder)
    return folder


def hand_over(path: Path) -> None:
    """Give ``path`` (and what is in it) to the engine user, when we are root."""
    ids = engine_user()
    if ids is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, *ids)
        for name in dirs + files:
            os.chown(os.path.join(root, name), *ids)


def _run(args: list[str], cwd: Path, log: Path | None = None) -> subprocess.CompletedProcess[str]:
    ids = engine_user()
    result = subprocess.run(  # noqa: S603 - our own engine binaries, no shell
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        user=ids[0] if ids else None,
        group=ids[1] if ids else None,
        extra_groups=[] if ids else None,
    )
    if result.returncode != 0:
        tail = _tail(log) if log else ""
        raise EngineError(
            f"{' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}\n{tail}"
        )
    return result


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Postgres:
    """One PostgreSQL cluster in ``folder`` (data in ``folder/data``, socket in ``folder``),
    on 127.0.0.1:``port``, trust authentication for the superuser ``lps`` on loopback."""

    def __init__(self, folder: Path, port: int | None = None, *, durable: bool = False) -> None:
        self.folder = folder
        self.port = port or free_port()
        # False (tests): no fsync. A commit still reaches the OS before it returns, so
        # stop("immediate") (a crash of PostgreSQL) loses nothing; a crash of the machine may.
        self.durable = durable
        self.data = folder / "data"
        self.log = folder / "postgres.log"

    @classmethod
    def create(cls, *, durable: bool = False) -> Postgres:
        """A new cluster (initdb) in a fresh folder, not started yet."""
        pg = cls(engine_folder("lps-pg-"), durable=durable)
        pg.initdb()
        return pg

    def initdb(self) -> None:
        args = [
            str(PG_BIN / "initdb"),
            "--pgdata",
            str(self.data),
            "--username",
            PG_SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
        ]
        if not self.durable:
            args.append("--no-sync")
        _run(args, cwd=self.folder)

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists() and port_accepts(self.port)

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder}"
        if not self.durable:  # safe against a crash of PostgreSQL, not of the machine
            options += " -c fsync=off -c full_page_writes=off"
        _run(
            [
                str(PG_BIN / "pg_ctl"),
                "start",
                "--wait",
                "--pgdata",
                str(self.data),
                "--log",
                str(self.log),
                "-o",
                options,
            ],
            cwd=self.folder,
            log=self.log,
        )

    def stop(self, mode: str = "fast") -> None:
        """``fast`` (disconnect everyone, clean shutdown) or ``immediate`` (like a crash)."""
        if not (self.data / "postmaster.pid").exists():
            return
        _run(
            [str(PG_BIN / "pg_ctl"), "stop", "--wait", "--pgdata", str(self.data), "-m", mode],
            cwd=self.folder,
            log=self.log,
        )

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` (psycopg 3 driver)."""
        return f"postgresql+psycopg://{PG_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """The libpq connection string of ``database``, for psycopg directly."""
        return f"host=127.0.0.1 port={self.port} user={PG_SUPERUSER} dbname={database}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        import psycopg  # the hub's driver; imported here so the module loads without it

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(sql.encode())

    def remove(self) -> None:
        """Stop the cluster and delete its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class Mosquitto:
    """One Mosquitto broker running ``folder/mosquitto.conf`` (which someone wrote, e.g.
    :func:`fleet.broker.write_broker_files`), listening on 127.0.0.1:``port``."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.conf = folder / "mosquitto.conf"
        self.log = folder / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 15.0) -> None:
        if self.running:
            return
        hand_over(self.folder)
        ids = engine_user()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own engine binary
                [str(MOSQUITTO), "-c", str(self.conf)],
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                user=ids[0] if ids else None,
                group=ids[1] if ids else None,
                extra_groups=[] if ids else None,
            )
        deadline = time.monotonic() + timeout
        while not port_accepts(self.port):
            if self.process.poll() is not None:
                self.process = None
                raise EngineError(f"mosquitto exited at start:\n{_tail(self.log)}")
            if time.monotonic() > deadline:
                self.stop()
                raise EngineError(f"mosquitto did not listen on {self.port}:\n{_tail(self.log)}")
            time.sleep(0.02)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM: Mosquitto saves its persistence file and exits."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL: a crash (what was not saved yet is lost)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class FleetBroker:
    """A Mosquitto running the hub's generated configuration (:mod:`fleet.broker`) in a
    folder of its own: the hub's user and one user per station, with their passwords kept
    here (in memory) so tests and ``make fleet`` can connect as any of them."""

    def __init__(
        self, folder: Path, port: int | None = None, *, log_types: tuple[str, ...] = LOG_TYPES
    ) -> None:
        self.folder = folder
        self.log_types = log_types
        self.port = port or free_port()
        self.hub_password = broker.new_password()
        self.share_group = broker.new_share_group()  # what the hub's workers subscribe with
        self.passwords: dict[str, str] = {}
        self._applied: dict[str, str] = {}  # the passwords the running broker has
        self.tls: broker.TlsListener | None = None  # set, then apply(), for a TLS listener
        self.engine = Mosquitto(folder, self.port)

    @classmethod
    def create(
        cls, stations: list[str] | tuple[str, ...] = (), *, log_types: tuple[str, ...] = LOG_TYPES
    ) -> FleetBroker:
        fleet = cls(engine_folder("lps-mqtt-"), log_types=log_types)
        fleet.passwords = {name: broker.new_password() for name in stations}
        fleet.apply()
        return fleet

    @property
    def hub_user(self) -> str:
        return broker.HUB_USER

    def credentials(self, station: str) -> tuple[str, str]:
        """``(username, password)`` of a station."""
        return broker.station_username(station), self.passwords[station]

    def apply(self) -> int | None:
        """Write the files for the current stations when the broker is stopped; when it
        runs, change it through its control topic (added, re-passworded and removed
        stations take effect at once). Returns the running broker's pid, if any."""
        if not self.running:
            users = [broker.BrokerUser.with_password(n, pw) for n, pw in self.passwords.items()]
            broker.write_broker_files(
                self.folder,
                users,
                broker.hash_password(self.hub_password),
                port=self.port,
                tls=self.tls,
                log_types=self.log_types,
            )
            hand_over(self.folder)
            return None
        with self.control() as control:
            present = {name.removeprefix(broker.STATION_PREFIX) for name in control.station_users()}
            for name in sorted(present - set(self.passwords)):
                control.remove_station(name)
            for name, password in sorted(self.passwords.items()):
                if name not in present or self._applied.get(name) != password:
                    control.add_station(name, password)
        self._applied = dict(self.passwords)
        return self.engine.process.pid if self.engine.process else None

    @property
    def running(self) -> bool:
        return self.engine.running

    def control(self) -> BrokerControl:
        """An admin connection to the running broker's dynamic-security control topic."""
        return BrokerControl("127.0.0.1", self.port, broker.HUB_USER, self.hub_password)

    def add_station(self, name: str) -> str:
        """A new station user (or a new password for one); returns its password."""
        self.passwords[name] = broker.new_password()
        self.apply()
        return self.passwords[name]

    def remove_station(self, name: str) -> None:
        del self.passwords[name]
        self.apply()

    def start(self) -> None:
        self.engine.start()
        self._applied = dict(self.passwords)  # what the files it loaded hold

    def stop(self) -> None:
        self.engine.stop()

    def kill(self) -> None:
        self.engine.kill()

    def remove(self) -> None:
        self.engine.remove()
