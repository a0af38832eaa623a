"""The Mosquitto configuration the hub generates: ``mosquitto.conf`` and the users, roles and
ACLs of Mosquitto's dynamic-security plugin (``dynamic-security.json``).

Every station ``S`` has its own broker user ``st-S`` with a role of its own: it may write
only ``lps/v2/P/S/{evt,state,snap,res}``, and subscribe to and receive only ``lps/v2/P/S/cmd``.
The hub's user ``hub`` may subscribe to and receive every station's up topics (also through
a shared subscription) and write every station's ``cmd``; it also holds the plugin's admin
role, so ``locker hub station add`` lets a new station in through the broker's control topic
(``$CONTROL/dynamic-security/v1``, :mod:`fleet.dynsec`) without a restart. Every station
rule is a literal topic, so no rule written for one station can ever match another.

Unlike the ACL file of Mosquitto 2.0 (applied at publish and delivery only), the plugin
checks SUBSCRIBE too: a station's subscription to another station's topics, to a wildcard
or to the workers' share group is refused (SUBACK 0x87), so it cannot take a turn in the
hub's share group and have other stations' messages dropped. The group's name
(:func:`new_share_group`) need no longer be a secret; it stays random and per hub.

Passwords are random (256 bits), so Mosquitto's default of 101 PBKDF2 rounds is no weakness.
The input is plain: :class:`BrokerUser` (a station name and its password's Mosquitto hash),
so the registry may keep only the hash and show the password once. Passwords are hashed the
way ``mosquitto_passwd`` does in Mosquitto 2.0 (``$7$``: PBKDF2-HMAC-SHA512), which is also
the plugin's own format (12-byte salt, 64-byte key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import pwd
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locker.uplink.messages import STATION_NAME, UP, every, topic

HUB_USER = "hub"
HUB_ROLE = "hub"
ADMIN_ROLE = "broker-admin"
CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
DYNSEC_FILE = "dynamic-security.json"


def _dynsec_plugin() -> str:
    """Where Debian's mosquitto package (2.0 and later) keeps the plugin: under the
    machine's multiarch folder (x86_64-linux-gnu on a PC, aarch64-linux-gnu on a
    Raspberry Pi's 64-bit system); ``LPS_MOSQUITTO_DYNSEC`` names another."""
    given = os.environ.get("LPS_MOSQUITTO_DYNSEC")
    if given:
        return given
    found = sorted(Path("/usr/lib").glob("*-linux-gnu*/mosquitto_dynamic_security.so"))
    return str(found[0]) if found else "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"


DYNSEC_PLUGIN = _dynsec_plugin()
STATION_PREFIX = "st-"
PBKDF2_ITERATIONS = 101  # mosquitto_passwd's default in 2.0
SALT_BYTES = 12  # ditto


class BrokerConfigError(ValueError):
    """A station name or a hash the broker configuration cannot take."""


def new_password() -> str:
    """A broker password: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def new_share_group() -> str:
    """The hub workers' shared-subscription group, random per hub (the broker refuses a
    station's subscription to it, so it is no longer a defence). Letters, digits, ``-``."""
    return f"hub-{secrets.token_hex(16)}"


def hash_password(password: str, *, iterations: int = PBKDF2_ITERATIONS) -> str:
    """Mosquitto's ``$7$iterations$salt$hash`` (base64, PBKDF2-HMAC-SHA512, 64-byte key)."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def check_password(password: str, hashed: str) -> bool:
    """Does ``password`` match a ``$7$`` hash (ours or ``mosquitto_passwd``'s)?"""
    _check_hash(hashed)
    parts = hashed.split("$")
    iterations, salt, key = int(parts[2]), base64.b64decode(parts[3]), base64.b64decode(parts[4])
    again = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, len(key))
    return hmac.compare_digest(again, key)


def _check_hash(hashed: str) -> None:
    parts = hashed.split("$")
    if len(parts) != 5 or parts[:2] != ["", "7"] or not parts[2].isdigit():
        raise BrokerConfigError("not a Mosquitto $7$ hash")
    for part in parts[3:]:
        try:
            base64.b64decode(part, validate=True)
        except ValueError as exc:
            raise BrokerConfigError("not a Mosquitto $7$ hash") from exc


@dataclass(frozen=True)
class BrokerUser:
    """A station's broker account: ``name`` as in ``STATION_NAME``, the user is ``st-<name>``."""

    name: str
    password_hash: str

    def __post_init__(self) -> None:
        if not STATION_NAME.fullmatch(self.name):
            raise BrokerConfigError(f"not a station name: {self.name!r}")
        _check_hash(self.password_hash)

    @classmethod
    def with_password(cls, name: str, password: str) -> BrokerUser:
        return cls(name, hash_password(password))

    @property
    def username(self) -> str:
        return station_username(self.name)


def station_username(name: str) -> str:
    return STATION_PREFIX + name


def _acl(kind: str, topic_filter: str) -> dict[str, Any]:
    return {"acltype": kind, "topic": topic_filter, "allow": True}


def station_role(name: str) -> dict[str, Any]:
    """A station's role: literal topics only, so it can never match another station. It may
    send its four up topics, subscribe to its own ``cmd`` and receive from it; nothing else
    (the default is to deny a publish, a delivery and a subscription)."""
    if not STATION_NAME.fullmatch(name):
        raise BrokerConfigError(f"not a station name: {name!r}")
    return {
        "rolename": station_username(name),
        "acls": [
            *(_acl("publishClientSend", topic(name, kind)) for kind in UP),
            _acl("publishClientReceive", topic(name, "cmd")),
            _acl("subscribeLiteral", topic(name, "cmd")),
        ],
    }


def hub_roles() -> list[dict[str, Any]]:
    """The hub's two roles: its workers read every station's up topics (plainly or through
    any share group) and write every ``cmd``; ``broker-admin`` changes the configuration
    through the plugin's control topic (``station add``)."""
    up = [every(kind) for kind in UP]
    return [
        {
            "rolename": HUB_ROLE,
            "acls": [
                _acl("publishClientSend", every("cmd")),
                *(_acl("publishClientReceive", t) for t in up),
                *(_acl("subscribePattern", t) for t in up),
                *(_acl("subscribePattern", f"$share/+/{t}") for t in up),
            ],
        },
        {
            "rolename": ADMIN_ROLE,
            "acls": [
                _acl(kind, f"{CONTROL_TOPIC.rsplit('/', 1)[0]}/#")
                for kind in ("publishClientSend", "publishClientReceive", "subscribePattern")
            ],
        },
    ]


def _client(username: str, password_hash: str, roles: list[str]) -> dict[str, Any]:
    """A client as the plugin stores it: Mosquitto's ``$7$`` hash is the same PBKDF2-SHA512
    (iterations, base64 salt, base64 64-byte key), so the registry's hash is copied over."""
    _check_hash(password_hash)
    _, _, iterations, salt, key = password_hash.split("$")
    return {
        "username": username,
        "password": key,
        "salt": salt,
        "iterations": int(iterations),
        "roles": [{"rolename": role} for role in roles],
    }


def dynsec_config(stations: Iterable[BrokerUser], hub_password_hash: str) -> dict[str, Any]:
    """The dynamic-security plugin's whole configuration: the hub (both roles) and each
    station with a role of its own; everything not granted is denied, subscriptions too."""
    users = _unique(stations)
    return {
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": True,
        },
        "clients": [
            _client(HUB_USER, hub_password_hash, [HUB_ROLE, ADMIN_ROLE]),
            *(_client(u.username, u.password_hash, [u.username]) for u in users),
        ],
        "roles": [*hub_roles(), *(station_role(u.name) for u in users)],
        "groups": [],
    }


@dataclass(frozen=True)
class TlsListener:
    """The stations' listener, for a broker reachable from the internet: TLS 1.2 at least,
    the server's certificate chain and key in PEM (e.g. from the hub's ACME client). The
    plain listener then stays on loopback for the hub's workers."""

    certfile: Path
    keyfile: Path
    port: int = 8883
    bind: str = "0.0.0.0"  # noqa: S104 - the point of this listener
    # Stations must also show a client certificate this CA signed (besides their password).
    client_ca: Path | None = None


def mosquitto_conf(
    folder: Path,
    *,
    port: int = 1883,
    bind: str = "127.0.0.1",
    persistence_location: Path | None = None,
    max_queued_messages: int = 10000,
    pid_file: Path | None = None,
    tls: TlsListener | None = None,
    log_types: Iterable[str] = ("error", "warning", "notice", "information"),
    autosave_interval: int = 60,
) -> str:
    """A whole ``mosquitto.conf`` for ``mosquitto -c``, using the files in ``folder``.

    ``autosave_interval``: seconds between saves of the in-memory database (queued and
    in-flight messages, sessions, retained messages) to the persistence file, when it has
    changed. A message the broker has acknowledged (PUBACK) but not saved yet is lost if
    the broker is killed, so a service uses a short one (:mod:`fleet.service`). It is time
    based on purpose: ``autosave_on_changes`` would count changes instead, and Mosquitto
    2.0 writes the whole file at every save, so saving every few messages under load would
    write the whole queue again for each of them."""
    folder = folder.resolve()
    persistence = (persistence_location or folder / "persistence").resolve()
    lines = [
        "# Generated by `locker hub broker-config`: edits are lost at the next generation.",
        "per_listener_settings false",
        "allow_anonymous false",
        # Users, roles and ACLs (SUBSCRIBE checked too): the plugin owns this file once it
        # runs, and the hub changes it through $CONTROL/dynamic-security/v1.
        f"plugin {DYNSEC_PLUGIN}",
        f"plugin_opt_config_file {folder / DYNSEC_FILE}",
        "persistence true",
        f"persistence_location {persistence}/",
        f"autosave_interval {autosave_interval}",
        # The hub's persistent session holds what arrives while its workers restart.
        f"max_queued_messages {max_queued_messages}",
        "log_dest stderr",
        *(f"log_type {kind}" for kind in log_types),
        "connection_messages true",
        f"listener {port} {bind}",
    ]
    if pid_file is not None:
        lines.insert(-1, f"pid_file {pid_file.resolve()}")
    if tls is not None:  # listener options follow their listener line
        lines += [
            f"listener {tls.port} {tls.bind}",
            f"certfile {tls.certfile.resolve()}",
            f"keyfile {tls.keyfile.resolve()}",
            "tls_version tlsv1.2",  # the lowest version taken (Mosquitto 2.0)
        ]
        if tls.client_ca is not None:
            lines += [f"cafile {tls.client_ca.resolve()}", "require_certificate true"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class BrokerFiles:
    conf: Path
    dynsec: Path  # the dynamic-security plugin's users, roles and ACLs (JSON)
    persistence: Path
    pid_file: Path  # Mosquitto writes its pid here: running_broker() reads it


def write_broker_files(
    folder: Path,
    stations: Iterable[BrokerUser],
    hub_password_hash: str,
    *,
    port: int = 1883,
    bind: str = "127.0.0.1",
    persistence_location: Path | None = None,
    tls: TlsListener | None = None,
    pid_file: Path | None = None,
    owner: str | None = None,
    log_types: Iterable[str] = ("error", "warning", "notice", "information"),
    autosave_interval: int = 60,
) -> BrokerFiles:
    """Write ``mosquitto.conf`` and the plugin's configuration into ``folder`` (each
    replaced whole), for a broker that is not running on them yet: a running one owns the
    plugin's file and writes it itself (see :func:`fleet.dynsec.apply_broker_config`).

    ``owner``: the user the broker runs as (Debian's service starts as root and becomes
    ``mosquitto`` *before* it loads the plugin, and writes its pid file, persistence and the
    plugin's file as that user), given the folder, the persistence and the files; as root
    only. ``pid_file``: where the broker writes its pid (Debian:
    ``/run/mosquitto/mosquitto.pid``); by default in ``folder``."""
    stations = list(stations)
    config = dynsec_config(stations, hub_password_hash)
    folder.mkdir(parents=True, exist_ok=True)
    files = BrokerFiles(
        conf=folder / "mosquitto.conf",
        dynsec=folder / DYNSEC_FILE,
        persistence=(persistence_location or folder / "persistence"),
        pid_file=pid_file or folder / "mosquitto.pid",
    )
    files.persistence.mkdir(parents=True, exist_ok=True)
    ids = _owner_ids(owner)
    if ids is not None:
        for path in (folder, files.persistence):
            os.chown(path, *ids)
    _replace(files.dynsec, json.dumps(config, indent=1) + "\n", 0o600, ids)
    conf = mosquitto_conf(
        folder,
        port=port,
        bind=bind,
        persistence_location=files.persistence,
        pid_file=files.pid_file,
        tls=tls,
        log_types=log_types,
        autosave_interval=autosave_interval,
    )
    _replace(files.conf, conf, 0o644, ids)
    return files


def running_broker(pid_file: Path) -> int | None:
    """The pid of the Mosquitto that wrote ``pid_file``, if it still runs (a stale pid file
    may name another program now: that is no broker)."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        command = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    return pid if command == "mosquitto" else None


def _owner_ids(owner: str | None) -> tuple[int, int] | None:
    if owner is None:
        return None
    try:
        entry = pwd.getpwnam(owner)
    except KeyError as exc:
        raise BrokerConfigError(f"no such user for the broker: {owner!r}") from exc
    return entry.pw_uid, entry.pw_gid


def _replace(path: Path, text: str, mode: int, ids: tuple[int, int] | None = None) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    if ids is not None:
        os.chown(tmp, *ids)
    elif os.geteuid() == 0 and path.exists():  # keep the owner the broker reads it as
        stat = path.stat()
        os.chown(tmp, stat.st_uid, stat.st_gid)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _unique(stations: Iterable[BrokerUser]) -> list[BrokerUser]:
    seen: dict[str, BrokerUser] = {}
    for user in stations:
        if user.name in seen:
            raise BrokerConfigError(f"station {user.name!r} given twice")
        seen[user.name] = user
    return sorted(seen.values(), key=lambda user: user.name)
