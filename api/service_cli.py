"""``locker service``: install, remove and look at the station's systemd units.

``install`` writes ``locker-station.service`` (and, with ``--kiosk-url``, the kiosk
screen's ``locker-kiosk.service``; with ``--serial-number``, the udev rule naming the RS485
adapter ``/dev/lockbus-main``). With ``--root DIR`` every file goes under DIR and nothing
on this system is created or started (tests, packaging); without it, it creates the
system user and the data folder, reloads systemd and udev and starts the units.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from locker.runtime.service_units import (
    KIOSK_UNIT,
    STATION_UNIT,
    UDEV_RULE,
    KioskService,
    StationService,
    kiosk_unit,
    station_unit,
    udev_rule,
    valid_serial,
)

service_app = typer.Typer(help="Run the station as a systemd service.", no_args_is_help=True)

Root = Annotated[
    Path | None,
    typer.Option(help="write every file under this folder; create and start nothing"),
]
UNITS = (STATION_UNIT, KIOSK_UNIT)


def _units_dir(root: Path) -> Path:
    return root / "etc/systemd/system"


def _rules_dir(root: Path) -> Path:
    return root / "etc/udev/rules.d"


def _locker_command() -> Path:
    """The ``locker`` of this venv (not resolved: the venv's python is a symlink)."""
    beside = Path(sys.executable).with_name("locker")
    return beside.absolute() if beside.exists() else Path(sys.argv[0]).absolute()


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):  # Debian's, Raspberry Pi OS's
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o644)
    typer.echo(f"wrote {path}")


def _run(*argv: str) -> None:
    typer.echo("$ " + " ".join(argv))
    # our own fixed commands (useradd, udevadm, systemctl), found on PATH like a shell's
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        typer.echo(f"error: {' '.join(argv)} failed: {done.stderr.strip()}", err=True)
        raise typer.Exit(1)


def _systemd_running(root: Path) -> bool:
    return (root / "run/systemd/system").is_dir()  # sd_booted(3)'s test


def _ensure_user(name: str, home: Path, groups: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        _run(
            "useradd", "--system", "--user-group", "--groups", groups,
            "--home-dir", str(home), "--no-create-home", "--shell", "/usr/sbin/nologin", name,
        )  # fmt: skip
        return
    _run("usermod", "--append", "--groups", groups, name)


def _list_adapters() -> None:
    from drivers.adapters import usb_serial_adapters  # pyserial, only when asked

    adapters = usb_serial_adapters()
    if not adapters:
        typer.echo("no USB serial adapter found: no udev rule written (--serial-number SN)")
        return
    typer.echo("USB serial adapters found (name one with --serial-number for /dev/lockbus-main):")
    for adapter in adapters:
        serial = adapter.serial_number or "(no serial number: cannot be named by udev)"
        typer.echo(f"  {adapter.device}  {adapter.vid_pid}  {serial}  {adapter.description}")


@service_app.command("install")
def install(
    root: Root = None,
    user: Annotated[str, typer.Option(help="the system user the station runs as")] = "locker",
    data_dir: Annotated[Path, typer.Option(help="the station's database, key and backups")] = Path(
        "/var/lib/locker"
    ),
    layout: Annotated[
        Path | None, typer.Option(help="station layout TOML (default: the demo, simulated)")
    ] = None,
    serial_number: Annotated[
        str | None,
        typer.Option(
            help="the RS485 adapter's USB serial number: a udev rule names it /dev/lockbus-main"
        ),
    ] = None,
    kiosk_url: Annotated[
        str | None,
        typer.Option(
            help="also a kiosk screen: Chromium on this URL, e.g. http://127.0.0.1:8000/kiosk"
        ),
    ] = None,
    no_enable: Annotated[
        bool, typer.Option("--no-enable", help="write the files, start nothing")
    ] = False,
) -> None:
    """Write (and, unless --no-enable, enable and start) the station's systemd units."""
    if serial_number is not None and not valid_serial(serial_number):
        typer.echo(f"error: not a USB serial number: {serial_number!r}", err=True)
        raise typer.Exit(2)
    if layout is not None and not layout.is_absolute():
        layout = layout.absolute()
    data_dir = data_dir.absolute()
    base = root.absolute() if root is not None else Path("/")
    if root is None and os.geteuid() != 0:
        typer.echo("error: run it as root (sudo), or give --root DIR to write files only", err=True)
        raise typer.Exit(1)
    kiosk = (
        KioskService(kiosk_url, user=f"{user}-kiosk", chromium=_chromium()) if kiosk_url else None
    )
    if root is None:
        _ensure_user(user, data_dir, "dialout")
        if kiosk is not None:
            _ensure_user(kiosk.user, Path(f"/var/lib/{kiosk.user}"), "video,input,render,tty")
        data_dir.mkdir(parents=True, exist_ok=True)
        account = pwd.getpwnam(user)
        os.chown(data_dir, account.pw_uid, account.pw_gid)
        data_dir.chmod(0o700)
    service = StationService(_locker_command(), user=user, data_dir=data_dir, layout=layout)
    units = _units_dir(base)
    _write(units / STATION_UNIT, station_unit(service))
    if kiosk is not None:
        _write(units / KIOSK_UNIT, kiosk_unit(kiosk))
        if shutil.which("xinit") is None:
            typer.echo("note: the kiosk needs X: apt-get install xserver-xorg xinit chromium")
    elif (units / KIOSK_UNIT).exists():
        typer.echo(f"note: {units / KIOSK_UNIT} is left as it was (no --kiosk-url)")
    if serial_number is not None:
        _write(_rules_dir(base) / UDEV_RULE, udev_rule(serial_number))
    else:
        _list_adapters()
    enabled = [STATION_UNIT, *([KIOSK_UNIT] if kiosk is not None else [])]
    if root is not None:
        if not no_enable:  # the wants/ links inside DIR only, as a package would ship them
            _run("systemctl", f"--root={base}", "enable", *enabled)
        return
    if serial_number is not None and shutil.which("udevadm"):
        _run("udevadm", "control", "--reload-rules")
        _run("udevadm", "trigger", "--subsystem-match=tty", "--action=add")
    if not _systemd_running(base):
        typer.echo("systemd is not running on this machine: the units are written, not started")
        raise typer.Exit(1)
    _run("systemctl", "daemon-reload")
    if not no_enable:
        _run("systemctl", "enable", "--now", *enabled)
        typer.echo(f"started: see `locker service status` and `journalctl -u {STATION_UNIT}`")


@service_app.command("uninstall")
def uninstall(root: Root = None) -> None:
    """Stop, disable and remove the units and the udev rule; the data folder stays."""
    base = root.absolute() if root is not None else Path("/")
    units = _units_dir(base)
    present = [unit for unit in UNITS if (units / unit).exists()]
    if root is None and os.geteuid() != 0:
        typer.echo("error: run it as root (sudo), or give --root DIR", err=True)
        raise typer.Exit(1)
    running = root is None and _systemd_running(base)
    if present:
        if running:
            _run("systemctl", "disable", "--now", *present)
        else:
            _run("systemctl", f"--root={base}", "disable", *present)
    for path in [*(units / unit for unit in present), _rules_dir(base) / UDEV_RULE]:
        if path.exists():
            path.unlink()
            typer.echo(f"removed {path}")
    if running:
        _run("systemctl", "daemon-reload")
    typer.echo("the data folder and the system user are kept")


@service_app.command("status")
def status(root: Root = None) -> None:
    """Each unit's state (systemctl is-active / is-enabled); exit 0 when the station runs."""
    base = root.absolute() if root is not None else Path("/")
    units = _units_dir(base)
    present = [unit for unit in UNITS if (units / unit).exists()]
    if not present:
        typer.echo(f"no station unit in {units}: `locker service install` writes them")
        raise typer.Exit(3)
    running = _systemd_running(base)
    station_active = False
    for unit in present:
        on_root = [f"--root={base}"] if root is not None else []
        enabled = _systemctl_word(*on_root, "is-enabled", unit)
        if running:
            active = _systemctl_word("is-active", unit)
            station_active = station_active or (unit == STATION_UNIT and active == "active")
        else:
            active = "unknown"
        typer.echo(f"{unit}: {active}, {enabled}")
    if not running:
        typer.echo(f"systemd is not running under {base}: whether the units run is unknown")
        raise typer.Exit(1)
    if not station_active:
        raise typer.Exit(3)


def _systemctl_word(*args: str) -> str:
    """What ``systemctl`` answers (its first line), or why it could not."""
    if shutil.which("systemctl") is None:
        return "unknown (no systemctl)"
    argv = ["systemctl", *args]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    words = (done.stdout or done.stderr).strip().splitlines()
    return words[0] if words else f"unknown (exit {done.returncode})"
