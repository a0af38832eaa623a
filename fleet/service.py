"""``locker hub service install``: the hub as systemd services on Debian (Bookworm).

What it writes (each path under ``root``, which is ``/`` on a real machine):

- ``/etc/systemd/system/locker-hub.service``: the HTTPS API and the operators' screen with
  worker 0 in the same process (``locker hub serve --workers N --no-spawn``: it publishes
  the hub's commands), served over the hub's own TLS listener;
- ``/etc/systemd/system/locker-hub-worker@.service``: workers 1 … N−1, one instance each
  (``locker-hub-worker@1.service``: the instance is the worker's index), with
  ``FLEET_WORKERS`` set to the count;
- ``/etc/systemd/system/mosquitto.service.d/locker-hub.conf``: Debian's mosquitto service
  started on the hub's broker configuration (:func:`fleet.dynsec.apply_broker_config`): a
  TLS listener for the stations, a plain one on 127.0.0.1 for the workers, persistence
  saved every :data:`AUTOSAVE_S` seconds, the dynamic-security plugin;
- ``/etc/locker-hub/hub.env``: the hub's ``FLEET_*`` settings (the broker password made
  once and kept), read by the units and by ``FLEET_ENV_FILE=… locker hub …``;
- ``/etc/locker-hub/tls/``: the certificates: given (``--tls-cert``/``--tls-key``, e.g. a
  public CA's) or made by a private CA (:mod:`fleet.pki`) whose ``ca.pem`` the stations
  trust; kept when they are there.

On a real machine (no ``root``) it also makes the system user, the data folder, the
PostgreSQL role and database (peer authentication over the local socket: no password),
and reloads, enables and starts the units unless ``enable`` is off. With ``root`` nothing
outside it is touched and nothing is enabled (the tests).
"""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Callable
from pathlib import Path

from fleet import broker
from fleet.service_units import (
    BROKER_UNIT,
    DATABASE,
    HUB_UNIT,
    HubService,
    ServiceError,
    TlsFiles,
    broker_drop_in,
    hub_unit,
    settings_text,
    worker_unit,
)

WORKER_UNIT = "locker-hub-worker@.service"
DROP_IN = "locker-hub.conf"
BROKER_USER = "mosquitto"  # Debian's service becomes this user before it loads the plugin
AUTOSAVE_S = 2  # a PUBACKed message is on disk within this many seconds
CERT_DAYS = 825


def read_settings(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of an env file (comments and blank lines skipped)."""
    found: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.lstrip().startswith("#"):
                found[key.strip()] = value.strip()
    return found


def _ids(user: str | None) -> tuple[int, int] | None:
    if user is None:
        return None
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def pwd_ids(user: str) -> tuple[int, int]:
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def _write(path: Path, text: str | bytes, mode: int, ids: tuple[int, int] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(text.encode() if isinstance(text, str) else text)
    if ids is not None:
        os.chown(tmp, *ids)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def certificates(service: HubService, *, real: bool) -> TlsFiles:
    """The broker's and the hub's certificate and key: the given ones (copied, so each
    service reads its own), those made before, or new ones from a private CA."""
    from fleet.pki import Authority

    tls = service.path(service.tls_dir)
    tls.mkdir(parents=True, exist_ok=True)
    os.chmod(tls, 0o755)  # noqa: S103 - certificates; each key is 0600 for its reader
    files = TlsFiles(
        broker_cert=service.tls_dir / "broker.pem",
        broker_key=service.tls_dir / "broker.key",
        hub_cert=service.tls_dir / "hub.pem",
        hub_key=service.tls_dir / "hub.key",
        ca=None if service.tls_cert else service.tls_dir / "ca.pem",
    )
    owners = {"broker": BROKER_USER, "hub": service.user}
    if service.tls_cert is not None and service.tls_key is not None:
        for stem, who in owners.items():
            _write(tls / f"{stem}.pem", service.tls_cert.read_bytes(), 0o644)
            key = service.tls_key.read_bytes()
            _write(tls / f"{stem}.key", key, 0o600, _ids(who if real else None))
        return files
    if all((tls / f"{stem}.{ext}").exists() for stem in owners for ext in ("pem", "key")):
        return files  # made at an earlier install: the stations trust its CA already
    authority = Authority(f"locker hub CA {service.names[0]}", days=CERT_DAYS)
    authority.write_ca(tls / "ca.pem")
    for stem, who in owners.items():
        issued = authority.issue(tls, stem, service.names)
        if real:
            os.chown(issued.key, *pwd_ids(who))
    return files


def _stations(database_url: str) -> list[broker.BrokerUser] | None:
    """The registry's stations, or None when the database cannot be reached (yet)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from fleet import registry
    from fleet.db import HubDatabase

    db = HubDatabase(database_url)
    try:
        return [broker.BrokerUser(name, hashed) for name, hashed in registry.stations(db)]
    except (OperationalError, ProgrammingError):
        return None
    finally:
        db.close()


Say = Callable[[str], None]


def install(service: HubService, *, enable: bool = True, say: Say = print) -> list[Path]:
    """Write (and on a real machine, set up and start) the hub's services; the files
    written, as their paths on disk."""
    from fleet import dynsec

    real = service.root is None
    if real:
        if os.geteuid() != 0:
            raise ServiceError("run it as root (sudo), or with --root DIR to write the files only")
        _system_user(service.user)
        if not service.database_url:
            _database(service.user, say)
    data = service.path(service.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    # the hub's user and group; others (Debian's mosquitto) may only pass to broker/
    os.chmod(data, 0o751)  # noqa: S103
    if real:
        os.chown(data, *pwd_ids(service.user))
    tls = certificates(service, real=real)

    env = service.path(service.env_file)
    old = read_settings(env)
    password = old.get("FLEET_MQTT_PASSWORD") or broker.new_password()
    written = [env]
    hub_ids = _ids(service.user) if real else None
    # root's, readable by the hub's group: the hub may not change its own settings
    _write(env, settings_text(service, password, tls), 0o640, (0, hub_ids[1]) if hub_ids else None)

    stations = _stations(service.url())
    folder = service.path(service.broker_dir)
    if stations is None and (folder / broker.DYNSEC_FILE).exists():
        say(f"# the database is not reachable: the broker's users in {folder} are kept")
    else:
        if stations is None:
            say("# the database is not reachable yet: the broker starts with the hub's user only")
        files, pid = dynsec.apply_broker_config(
            folder,
            stations or [],
            password,
            port=service.mqtt_port,
            bind="127.0.0.1",
            tls=broker.TlsListener(
                service.path(tls.broker_cert), service.path(tls.broker_key), port=service.tls_port
            ),
            pid_file=service.path(service.broker_dir / "mosquitto.pid"),
            owner=BROKER_USER if real else None,
            autosave_interval=AUTOSAVE_S,
        )
        if pid is not None:
            say(f"# the broker {pid} runs on {folder}: its configuration was not rewritten")
        written += [files.conf, files.dynsec]

    units = service.path(service.unit_dir)
    for name, text in (
        (HUB_UNIT, hub_unit(service)),
        (WORKER_UNIT, worker_unit(service)),
        (f"{BROKER_UNIT}.d/{DROP_IN}", broker_drop_in(service)),
    ):
        _write(units / name, text, 0o644)
        written.append(units / name)
    if real:
        _systemctl("daemon-reload")
        if enable:
            before = int(old.get("FLEET_WORKERS", "1"))
            gone = [f"locker-hub-worker@{i}.service" for i in range(service.workers, before)]
            if gone:
                _systemctl("disable", "--now", *gone)
            _systemctl("enable", "postgresql.service", BROKER_UNIT)
            _systemctl("restart", BROKER_UNIT)
            _systemctl("enable", HUB_UNIT, *service.worker_units())
            _systemctl("restart", HUB_UNIT, *service.worker_units())
    return written


def uninstall(service: HubService, *, say: Say = print) -> list[Path]:
    """Stop and remove the units (and the broker's drop-in); the data, the settings, the
    certificates and the database stay (remove them by hand to start afresh)."""
    units = service.path(service.unit_dir)
    real = service.root is None
    if real:
        workers = int(read_settings(service.path(service.env_file)).get("FLEET_WORKERS", "1"))
        instances = [f"locker-hub-worker@{i}.service" for i in range(1, workers)]
        _systemctl("disable", "--now", HUB_UNIT, *instances, check=False)
    removed = []
    for name in (HUB_UNIT, WORKER_UNIT, f"{BROKER_UNIT}.d/{DROP_IN}"):
        path = units / name
        if path.exists():
            path.unlink()
            removed.append(path)
    if real:
        _systemctl("daemon-reload")
        _systemctl("try-restart", BROKER_UNIT, check=False)  # back on Debian's own file
    say(
        f"kept: {service.path(service.data_dir)}, {service.path(service.config_dir)}"
        + ("" if service.database_url else f" and the database {DATABASE}")
    )
    return removed


def status(service: HubService) -> list[tuple[str, str]]:
    """``(unit, state)`` for each of the hub's units: systemd's on a real machine, else
    whether its file is written."""
    units = [BROKER_UNIT, HUB_UNIT, *service.worker_units()]
    if service.root is not None:
        folder = service.path(service.unit_dir)
        files = {BROKER_UNIT: f"{BROKER_UNIT}.d/{DROP_IN}", HUB_UNIT: HUB_UNIT}
        return [
            (u, "written" if (folder / files.get(u, WORKER_UNIT)).exists() else "missing")
            for u in units
        ]
    rows = []
    for unit in units:
        active = _systemctl("is-active", unit, check=False).stdout.strip() or "unknown"
        enabled = _systemctl("is-enabled", unit, check=False).stdout.strip() or "unknown"
        rows.append((unit, f"{active} {enabled}"))
    return rows


def _systemctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - systemctl with our own unit names
        ["/usr/bin/systemctl", *args],
        capture_output=True,
        text=True,
        check=False,  # noqa: S607
    )
    if check and result.returncode != 0:
        raise ServiceError(f"systemctl {' '.join(args)}: {result.stderr.strip()}")
    return result


def _system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed arguments
            [
                "/usr/sbin/useradd",
                "--system",
                "--user-group",
                "--home-dir",
                "/nonexistent",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            check=True,
        )


def _database(user: str, say: Say) -> None:
    """The role (the system user's name: peer authentication) and the database it owns,
    made by Debian's ``postgres`` user when they are missing."""
    if not (Path("/usr/sbin/runuser").exists() and Path("/usr/bin/psql").exists()):
        raise ServiceError("PostgreSQL's client is missing: apt-get install postgresql")

    def psql(sql: str) -> str:
        done = subprocess.run(  # noqa: S603 - fixed program, our own SQL
            ["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/bin/psql", "-tAc", sql],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ServiceError(f"PostgreSQL: {done.stderr.strip()} (is postgresql running?)")
        return done.stdout.strip()

    # `user` is a checked system user's name (HubService), DATABASE our own
    if not psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{user}'"):  # noqa: S608
        psql(f'CREATE ROLE "{user}" LOGIN')
        say(f"PostgreSQL: role {user} made")
    if not psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"):  # noqa: S608
        psql(f'CREATE DATABASE "{DATABASE}" OWNER "{user}"')
        say(f"PostgreSQL: database {DATABASE} made")
