"""What the hub's services are (:class:`HubService`) and the text of its systemd units and
settings file (:mod:`fleet.service` writes them;
``systemd-analyze verify`` checks them in tests/fleet/test_hub_service.py)."""

from __future__ import annotations

import re
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from fleet import broker

HUB_UNIT = "locker-hub.service"
BROKER_UNIT = "mosquitto.service"
MOSQUITTO = "/usr/sbin/mosquitto"

USER = "locker-hub"
DATABASE = "fleet"
SOCKET_DIR = "/run/postgresql"


class ServiceError(RuntimeError):
    """Something install/uninstall could not do; the message says what."""


@dataclass(frozen=True)
class HubService:
    """What ``install`` writes, and where."""

    root: Path | None = None  # None: this machine, for real
    workers: int = 1
    data_dir: Path = Path("/var/lib/locker-hub")
    config_dir: Path = Path("/etc/locker-hub")
    user: str = USER
    http_host: str = "0.0.0.0"  # noqa: S104 - the operators reach it over HTTPS
    http_port: int = 8443
    mqtt_port: int = 1883  # the workers' plain listener, on 127.0.0.1 only
    tls_port: int = 8883  # the stations' TLS listener
    names: tuple[str, ...] = field(default_factory=lambda: (socket.getfqdn(),))
    tls_cert: Path | None = None  # given: a public CA's chain and key (PEM)
    tls_key: Path | None = None
    database_url: str = ""  # empty: Debian's local PostgreSQL over its socket
    locker: tuple[str, ...] = field(default_factory=lambda: locker_command())

    def __post_init__(self) -> None:
        from locker.uplink.messages import PARTITIONS

        if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,30}", self.user):
            raise ServiceError(f"not a system user's name: {self.user!r}")
        if not 1 <= self.workers <= PARTITIONS:
            raise ServiceError(f"a hub has 1 to {PARTITIONS} workers, not {self.workers}")
        if not self.names or not all(re.fullmatch(r"[A-Za-z0-9.:-]+", n) for n in self.names):
            raise ServiceError(f"the broker's names are host names or addresses: {self.names}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ServiceError("--tls-cert and --tls-key go together")

    def path(self, absolute: Path | str) -> Path:
        """An absolute path of the machine, under ``root`` if given: where a file is written
        and how the other files name it, so that a hub written with ``root`` is whole there
        (its units' paths exist for ``systemd-analyze verify``, its broker runs there)."""
        absolute = Path(absolute)
        return absolute if self.root is None else self.root / absolute.relative_to("/")

    @property
    def unit_dir(self) -> Path:
        return Path("/etc/systemd/system")

    @property
    def env_file(self) -> Path:
        return self.config_dir / "hub.env"

    @property
    def tls_dir(self) -> Path:
        return self.config_dir / "tls"

    @property
    def broker_dir(self) -> Path:
        return self.data_dir / "broker"  # what `locker hub broker-config` writes too

    def url(self) -> str:
        return self.database_url or (
            f"postgresql+psycopg://{self.user}@/{DATABASE}?host={SOCKET_DIR}"
        )

    def worker_units(self) -> list[str]:
        """The instances of the worker template this hub runs (worker 0 is in the API's)."""
        return [f"locker-hub-worker@{i}.service" for i in range(1, self.workers)]

    def command(self, *args: str) -> str:
        return " ".join([*self.locker, *args])


def locker_command() -> tuple[str, ...]:
    """The ``locker`` program of this installation (the virtual environment's), else the
    hub's module run by this Python."""
    script = Path(sys.executable).parent / "locker"
    if script.exists():
        return (str(script), "hub")
    return (sys.executable, "-m", "fleet.cli")


@dataclass(frozen=True)
class TlsFiles:
    broker_cert: Path  # real paths (what the configuration names)
    broker_key: Path
    hub_cert: Path
    hub_key: Path
    ca: Path | None  # the private CA's certificate, for the stations; None: a public CA's


# The sandbox of each unit: the hub reads its code and settings and writes its data folder.
HARDENING = """\
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
CapabilityBoundingSet=
UMask=0027"""


def hub_unit(service: HubService) -> str:
    serve = service.command("serve", "--workers", str(service.workers), "--no-spawn")
    return f"""\
# Written by `locker hub service install`: edits are lost at the next install.
[Unit]
Description=Locker hub: HTTPS API, operators' screen and worker 0
After=network-online.target postgresql.service {BROKER_UNIT}
Wants=network-online.target postgresql.service {BROKER_UNIT}

[Service]
Type=simple
User={service.user}
Group={service.user}
EnvironmentFile={service.path(service.env_file)}
WorkingDirectory={service.path(service.data_dir)}
ExecStart={serve}
Restart=on-failure
RestartSec=2
TimeoutStopSec=40
ReadWritePaths={service.path(service.data_dir)}
{HARDENING}

[Install]
WantedBy=multi-user.target
"""


def worker_unit(service: HubService) -> str:
    work = service.command("worker", "--index", "%i")
    return f"""\
# Written by `locker hub service install`: edits are lost at the next install.
# One instance per worker beside the API's worker 0: locker-hub-worker@1.service, …
[Unit]
Description=Locker hub: MQTT worker %i of {service.workers}
After=network-online.target postgresql.service {BROKER_UNIT} {HUB_UNIT}
Wants=network-online.target
PartOf={HUB_UNIT}

[Service]
Type=simple
User={service.user}
Group={service.user}
EnvironmentFile={service.path(service.env_file)}
Environment=FLEET_WORKERS={service.workers}
WorkingDirectory={service.path(service.data_dir)}
ExecStart={work}
Restart=on-failure
RestartSec=2
TimeoutStopSec=40
ReadWritePaths={service.path(service.data_dir)}
{HARDENING}

[Install]
WantedBy=multi-user.target
"""


def broker_drop_in(service: HubService) -> str:
    conf = service.path(service.broker_dir / "mosquitto.conf")
    return f"""\
# Written by `locker hub service install`: Debian's mosquitto service on the hub's
# configuration (`locker hub broker-config` writes the same files) instead of
# /etc/mosquitto/mosquitto.conf. Its log goes to the journal.
[Service]
ExecStart=
ExecStart={MOSQUITTO} -c {conf}
"""


def settings_text(service: HubService, mqtt_password: str, tls: TlsFiles) -> str:
    lines = {
        "FLEET_DATABASE_URL": service.url(),
        "FLEET_DATA_DIR": str(service.path(service.data_dir)),
        "FLEET_MQTT_HOST": "127.0.0.1",
        "FLEET_MQTT_PORT": str(service.mqtt_port),
        "FLEET_MQTT_USER": broker.HUB_USER,
        "FLEET_MQTT_PASSWORD": mqtt_password,
        "FLEET_WORKERS": str(service.workers),
        "FLEET_STATION_MQTT_HOST": service.names[0],
        "FLEET_STATION_MQTT_PORT": str(service.tls_port),
        "FLEET_HTTP_HOST": service.http_host,
        "FLEET_HTTP_PORT": str(service.http_port),
        "FLEET_HTTP_TLS_CERT_FILE": str(service.path(tls.hub_cert)),
        "FLEET_HTTP_TLS_KEY_FILE": str(service.path(tls.hub_key)),
    }
    body = "".join(f"{key}={value}\n" for key, value in lines.items())
    return (
        "# The hub's settings (`locker hub service install`; the password is kept when it\n"
        "# installs again). For a command by hand:\n"
        f"#   sudo -u {service.user} FLEET_ENV_FILE={service.path(service.env_file)} "
        "locker hub …\n" + body
    )
