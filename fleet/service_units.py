"""The text of the hub's systemd units and settings file (:mod:`fleet.service` writes them;
``systemd-analyze verify`` checks them in tests/fleet/test_hub_service.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleet import broker

if TYPE_CHECKING:
    from fleet.service import HubService, TlsFiles

HUB_UNIT = "locker-hub.service"
BROKER_UNIT = "mosquitto.service"
MOSQUITTO = "/usr/sbin/mosquitto"

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
