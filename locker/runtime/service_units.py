"""The text of the station's systemd units and of its adapter's udev rule.

Pure functions returning strings; ``locker service install`` (api/service_cli.py) writes
them. Checked by ``systemd-analyze verify`` in tests/api/test_service.py.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from locker.store.check import EXIT_DAMAGED, EXIT_INCOMPATIBLE

STATION_UNIT = "locker-station.service"
KIOSK_UNIT = "locker-kiosk.service"
UDEV_RULE = "99-locker-lockbus.rules"
BUS_LINK = "lockbus-main"  # /dev/lockbus-main: the RS485 adapter, by its serial number
ENV_FILE = "/etc/locker/station.env"  # LOCKER_* settings (mail, hub, …); optional
WATCHDOG_S = 30
# Exits a restart cannot mend: a damaged or lost database and a missing code key (65), a
# newer version's database or another program's (78), a broken layout or command line (2).
EXIT_USAGE = 2
NO_RESTART = (EXIT_USAGE, EXIT_DAMAGED, EXIT_INCOMPATIBLE)
_SERIAL = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass(frozen=True)
class StationService:
    locker: Path  # the venv's ``locker`` command
    user: str = "locker"
    data_dir: Path = Path("/var/lib/locker")
    layout: Path | None = None  # None: the built-in demo layout on the simulator
    watchdog_s: int = WATCHDOG_S
    env_file: str = ENV_FILE


def _quote(words: list[str]) -> str:
    # systemd's ExecStart= splits words like a shell does for plain quoting; '%' and '$'
    # are its own specifiers and variables, so they are doubled.
    return " ".join(shlex.quote(w).replace("%", "%%").replace("$", "$$") for w in words)


def station_command(service: StationService) -> list[str]:
    words = [str(service.locker), "serve", "--data-dir", str(service.data_dir)]
    if service.layout is not None:
        words += ["--layout", str(service.layout)]
    return words


def station_unit(service: StationService) -> str:
    """``Type=notify``: READY=1 comes after the database, the bus and the start-up
    reconciliation; ``WATCHDOG=1`` only while the door watcher and the event loop run."""
    data = str(service.data_dir)
    state = f"StateDirectory={data.removeprefix('/var/lib/')}\nStateDirectoryMode=0700\n"
    if not data.startswith("/var/lib/") or data == "/var/lib/":
        state = ""  # elsewhere: install created it (mode 0700, owned by the user)
    no_restart = " ".join(str(code) for code in NO_RESTART)
    return f"""\
[Unit]
Description=Pickup station (doors, database, HTTP API)
After=network-online.target
Wants=network-online.target
StartLimitIntervalSec=10min
StartLimitBurst=20

[Service]
Type=notify
NotifyAccess=main
ExecStart={_quote(station_command(service))}
EnvironmentFile=-{service.env_file}
Environment=PYTHONUNBUFFERED=1
WorkingDirectory={data}
User={service.user}
Group={service.user}
SupplementaryGroups=dialout
{state}UMask=0077
Restart=on-failure
RestartSec=5
RestartPreventExitStatus={no_restart}
WatchdogSec={service.watchdog_s}
TimeoutStartSec=10min
TimeoutStopSec=30
# Hardening: the station writes only its data folder and reaches only its serial devices
# (the adapter's group is dialout; the simulator's lines are ptys).
ProtectSystem=strict
ReadWritePaths={data}
ProtectHome=yes
PrivateTmp=yes
NoNewPrivileges=yes
DevicePolicy=closed
DeviceAllow=char-ttyUSB rw
DeviceAllow=char-ttyACM rw
DeviceAllow=char-ttyAMA rw
DeviceAllow=char-pts rw
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
RemoveIPC=yes
CapabilityBoundingSet=
AmbientCapabilities=
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
SystemCallFilter=@system-service

[Install]
WantedBy=multi-user.target
"""


@dataclass(frozen=True)
class KioskService:
    url: str
    user: str = "locker-kiosk"
    chromium: str = "/usr/bin/chromium"  # Raspberry Pi OS: /usr/bin/chromium-browser
    xinit: str = "/usr/bin/xinit"
    xorg: str = "/usr/bin/Xorg"
    vt: int = 7


def chromium_command(service: KioskService, profile: str) -> list[str]:
    # No --incognito: pairing puts the device token in a cookie (/kiosk/pair), which must
    # outlive a restart of the browser; the profile is the kiosk user's state folder.
    return [
        service.chromium,
        "--kiosk",
        "--noerrdialogs",
        "--disable-session-crashed-bubble",
        "--disable-infobars",
        "--no-first-run",
        "--disable-translate",
        "--disable-features=Translate",
        "--overscroll-history-navigation=0",
        "--disable-pinch",
        "--check-for-update-interval=31536000",
        f"--user-data-dir={profile}",
        service.url,
    ]


def kiosk_unit(service: KioskService) -> str:
    """Chromium in kiosk mode on its own X server, started on a console at boot."""
    profile = f"/var/lib/{service.user}/chromium"
    server = [service.xorg, ":0", f"vt{service.vt}", "-nocursor", "-nolisten", "tcp"]
    server += ["-s", "0", "-dpms", "-keeptty"]
    command = [service.xinit, *chromium_command(service, profile), "--", *server]
    tty = f"tty{service.vt}"
    return f"""\
# Raspberry Pi OS Bookworm (and Debian): X, not Wayland. Bookworm's desktops are Wayland
# compositors, and a Wayland kiosk (cage) shows a cursor whenever any input device claims
# to be a pointer (the Pi's HDMI-CEC inputs do). A bare X server started by xinit has
# -nocursor, so no cursor is ever drawn, with no extra package (unclutter is not needed).
# It runs on Raspberry Pi OS Lite with the packages xserver-xorg, xinit and chromium
# (chromium-browser on Raspberry Pi OS); logind gives the session on {tty} the screen and
# the touch input, so X runs without root. When Chromium ends, xinit ends the X server,
# and systemd starts both again.
[Unit]
Description=Pickup station kiosk screen (Chromium on {service.url})
After={STATION_UNIT} systemd-user-sessions.service plymouth-quit-wait.service
Wants={STATION_UNIT}
Conflicts=getty@{tty}.service

[Service]
Type=simple
User={service.user}
PAMName=login
TTYPath=/dev/{tty}
StandardInput=tty
StandardOutput=journal
StandardError=journal
UtmpIdentifier={tty}
UtmpMode=user
Environment=XDG_SESSION_TYPE=x11
SupplementaryGroups=video input render
StateDirectory={service.user}
StateDirectoryMode=0700
ExecStart={_quote(command)}
Restart=always
RestartSec=2
NoNewPrivileges=yes
ProtectSystem=full
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
"""


def valid_serial(serial: str) -> bool:
    return bool(_SERIAL.fullmatch(serial))


def udev_rule(serial: str, link: str = BUS_LINK) -> str:
    """``/dev/<link>`` for the USB serial adapter with this serial number, group dialout."""
    if not valid_serial(serial):
        raise ValueError(f"not a serial number udev can match: {serial!r}")
    return (
        "# The station's RS485 adapter, by its serial number (locker service install).\n"
        f'SUBSYSTEM=="tty", ATTRS{{serial}}=="{serial}", SYMLINK+="{link}", '
        'GROUP="dialout", MODE="0660"\n'
    )
