"""``locker service``: the units it writes pass ``systemd-analyze verify``, the udev rule
names the adapter, and ``status`` tells plainly when systemd is not running.

The units are written with ``--root`` (nothing on this machine is created or enabled) and
verified with ``systemd-analyze verify --root``: the root gets a copy of the machine's
own systemd units (the targets ours are wanted by) and, for each ``ExecStart=`` program,
an executable at its path (verify checks that it is there; the real programs are the
venv's ``locker`` and, for the kiosk, X's ``xinit``, not installed on a test machine).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from locker.runtime.service_units import (
    KIOSK_UNIT,
    STATION_UNIT,
    UDEV_RULE,
    StationService,
    station_unit,
    udev_rule,
)
from locker.store.check import EXIT_DAMAGED, EXIT_INCOMPATIBLE

ANALYZE = Path("/usr/bin/systemd-analyze")
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
KERONG = Path(__file__).parents[2] / "locker/layouts/kerong.toml"
runner = CliRunner()


def _install(root: Path, *more: str) -> str:
    done = runner.invoke(app, ["service", "install", "--root", str(root), *more])
    assert done.exit_code == 0, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
    return done.output


def _unit(root: Path, name: str) -> str:
    return (root / "etc/systemd/system" / name).read_text()


def _settings(unit: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def _verify(root: Path, *units: str) -> subprocess.CompletedProcess[str]:
    (root / "usr/lib/systemd").mkdir(parents=True, exist_ok=True)
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    for unit in units:
        program = shlex.split(_settings(_unit(root, unit))["ExecStart"][0])[0]
        stand_in = root / program.lstrip("/")
        stand_in.parent.mkdir(parents=True, exist_ok=True)
        stand_in.write_text("#!/bin/sh\n")
        stand_in.chmod(0o755)
    return subprocess.run(  # noqa: S603
        [str(ANALYZE), "verify", f"--root={root}", *units],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("root")
    output = _install(
        root,
        "--layout",
        str(KERONG),
        "--data-dir",
        "/var/lib/locker",
        "--serial-number",
        "A10K3XQZ",
        "--kiosk-url",
        "http://127.0.0.1:8000/kiosk",
    )
    return root, output


def test_the_units_pass_systemd_analyze_verify(installed: tuple[Path, str]) -> None:
    root, _ = installed
    done = _verify(root, STATION_UNIT, KIOSK_UNIT)
    # not a warning either: an unknown or misspelt key is only a warning to systemd
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_verify_notices_a_missing_program(tmp_path: Path) -> None:
    """The check is real: a unit whose program is not there fails it."""
    _install(tmp_path, "--no-enable", "--serial-number", "X1")
    done = _verify(tmp_path, STATION_UNIT)
    assert done.returncode == 0, done.stderr
    program = shlex.split(_settings(_unit(tmp_path, STATION_UNIT))["ExecStart"][0])[0]
    (tmp_path / program.lstrip("/")).unlink()
    done = subprocess.run(  # noqa: S603
        [str(ANALYZE), "verify", f"--root={tmp_path}", STATION_UNIT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "is not executable" in done.stderr


def test_the_station_unit(installed: tuple[Path, str]) -> None:
    root, _ = installed
    unit = _settings(_unit(root, STATION_UNIT))
    assert unit["Type"] == ["notify"]
    assert unit["NotifyAccess"] == ["main"]
    assert unit["Restart"] == ["on-failure"]
    no_restart = {int(code) for code in unit["RestartPreventExitStatus"][0].split()}
    assert {EXIT_DAMAGED, EXIT_INCOMPATIBLE} <= no_restart  # damaged db / missing key, newer
    assert int(unit["WatchdogSec"][0]) > 0
    assert unit["User"] == ["locker"]
    assert unit["Group"] == ["locker"]
    assert unit["SupplementaryGroups"] == ["dialout"]
    assert unit["StateDirectory"] == ["locker"]
    assert unit["UMask"] == ["0077"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["ReadWritePaths"] == ["/var/lib/locker"]
    for key in ("PrivateTmp", "NoNewPrivileges", "ProtectHome"):
        assert unit[key] == ["yes"], key
    assert unit["DevicePolicy"] == ["closed"]
    assert "char-ttyUSB rw" in unit["DeviceAllow"]
    command = shlex.split(unit["ExecStart"][0])
    assert command[0].endswith("/bin/locker")
    assert Path(command[0]).exists()
    assert command[1:] == ["serve", "--data-dir", "/var/lib/locker", "--layout", str(KERONG)]
    wanted = root / "etc/systemd/system/multi-user.target.wants" / STATION_UNIT
    assert wanted.is_symlink()  # enabled inside the root only


def test_the_kiosk_unit(installed: tuple[Path, str]) -> None:
    root, _ = installed
    unit = _settings(_unit(root, KIOSK_UNIT))
    assert unit["Restart"] == ["always"]
    assert unit["User"] == ["locker-kiosk"]
    command = shlex.split(unit["ExecStart"][0])
    browser, server = command[1 : command.index("--")], command[command.index("--") + 1 :]
    assert {"--kiosk", "--noerrdialogs", "--disable-session-crashed-bubble"} <= set(browser)
    assert browser[-1] == "http://127.0.0.1:8000/kiosk"
    assert "-nocursor" in server  # X draws no cursor at all


def test_the_udev_rule(installed: tuple[Path, str]) -> None:
    root, _ = installed
    rule = (root / "etc/udev/rules.d" / UDEV_RULE).read_text()
    assert (
        'SUBSYSTEM=="tty", ATTRS{serial}=="A10K3XQZ", SYMLINK+="lockbus-main", '
        'GROUP="dialout", MODE="0660"'
    ) in rule
    with pytest.raises(ValueError, match="serial number"):
        udev_rule('x", RUN+="/bin/sh')


def test_a_serial_number_udev_cannot_match_is_refused(tmp_path: Path) -> None:
    done = runner.invoke(
        app, ["service", "install", "--root", str(tmp_path), "--serial-number", 'a"b']
    )
    assert done.exit_code == 2
    assert "not a USB serial number" in done.output
    assert not (tmp_path / "etc").exists()


def test_without_a_serial_number_the_adapters_are_listed(tmp_path: Path) -> None:
    output = _install(tmp_path, "--no-enable")
    assert "no USB serial adapter found" in output or "USB serial adapters found" in output
    assert not (tmp_path / "etc/udev").exists()
    assert not (tmp_path / "etc/systemd/system" / KIOSK_UNIT).exists()  # no --kiosk-url
    assert not (tmp_path / "etc/systemd/system/multi-user.target.wants").exists()


def test_status_without_systemd_says_so_and_uninstall_keeps_the_data(tmp_path: Path) -> None:
    _install(tmp_path, "--kiosk-url", "http://127.0.0.1:8000/kiosk", "--serial-number", "S1")
    data = tmp_path / "var/lib/locker"
    data.mkdir(parents=True)
    (data / "station.db").write_bytes(b"kept")
    done = runner.invoke(app, ["service", "status", "--root", str(tmp_path)])
    assert done.exit_code == 1, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)  # no traceback
    assert f"{STATION_UNIT}: unknown, enabled" in done.output
    assert f"{KIOSK_UNIT}: unknown, enabled" in done.output
    assert "systemd is not running" in done.output
    done = runner.invoke(app, ["service", "uninstall", "--root", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert not list((tmp_path / "etc/systemd/system").rglob("*.service"))
    assert not (tmp_path / "etc/udev/rules.d" / UDEV_RULE).exists()
    assert (data / "station.db").read_bytes() == b"kept"
    done = runner.invoke(app, ["service", "status", "--root", str(tmp_path)])
    assert done.exit_code == 3
    assert "no station unit" in done.output


def test_a_data_folder_elsewhere_is_named_as_it_is() -> None:
    unit = station_unit(StationService(Path("/opt/locker/bin/locker"), data_dir=Path("/srv/l")))
    settings = _settings(unit)
    assert "StateDirectory" not in settings  # install makes /srv/l itself, mode 0700
    assert settings["ReadWritePaths"] == ["/srv/l"]
    assert settings["ExecStart"] == ["/opt/locker/bin/locker serve --data-dir /srv/l"]
