"""Every command of ``docs/deploy.md`` runs: each line of its ```sh blocks, in the page's
order, in a temporary folder, the hardware ones against the simulator (``locker sim --pty``,
two Kerong CU16 boards), the hub's against a real PostgreSQL.

The page's commands are changed by this rule only, so what runs is what a reader types:

1. ``sudo`` and ``sudo -u USER`` in front are dropped (the test does not change user);
2. ``locker service …`` and ``locker hub service …`` get ``--root ROOT`` (write the files
   under ROOT, enable nothing);
3. paths under ``/etc/``, ``/var/lib/`` and ``/mnt/`` move under ROOT, and
   ``/dev/lockbus-main`` is the simulator's pty (also in the page's ```toml layout, which
   is saved as ``station.toml``, the name the page gives it);
4. the environment names the test's PostgreSQL (``FLEET_DATABASE_URL``) and a free port
   for the hub's broker (``FLEET_MQTT_PORT``); a command that asks for a password is given
   one on its input;
5. ``locker service status`` under ``--root`` may end 1 saying that no systemd runs there
   (so whether the units run is unknown); every other command ends 0.

``locker`` commands run in this process (typer's runner, as the other CLI tests do), others
(``install``) as programs. Every ``locker`` command the page names in its text is one of
those run."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from fleet.engines import free_port
from tests.fleet.engines import PgDatabase, pg_database, pg_server

__all__ = ["pg_database", "pg_server"]  # the fixtures, for this module

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "deploy.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)
INLINE = re.compile(r"`((?:sudo )?locker [^`]+)`")
MOVED = re.compile(r"(?<![\w.])/(etc|var/lib|mnt)/")
PASSWORD = "a long enough password"
NO_SYSTEMD = "systemd is not running under"


@dataclass(frozen=True)
class Command:
    words: list[str]
    env: dict[str, str]

    @property
    def line(self) -> str:
        return " ".join(self.words)


def blocks(kind: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(PAGE.read_text(encoding="utf-8")) if lang == kind]


def page_commands() -> list[str]:
    """The ```sh lines of the page, as written (a trailing ``\\`` joins the next line)."""
    lines = []
    for body in blocks("sh"):
        for line in body.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line:
                lines.append(line)
    return lines


def rewrite(line: str, root: Path, pty: str) -> Command:
    words = shlex.split(line)
    if words[:2] == ["sudo", "-u"]:
        words = words[3:]
    elif words[:1] == ["sudo"]:
        words = words[1:]
    env = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    for i in (1, 2):
        if words[: i + 1] == ["locker", *["hub"] * (i - 1), "service"]:
            words.insert(i + 2, f"--root={root}")

    def move(word: str) -> str:
        return MOVED.sub(f"{root}/\\1/", word).replace("/dev/lockbus-main", pty)

    return Command([move(w) for w in words], {k: move(v) for k, v in env.items()})


def test_the_rule_changes_paths_users_and_roots_only() -> None:
    root = Path("/r")
    got = rewrite(
        "sudo -u locker LOCKER_DATA_DIR=/var/lib/locker locker db backup --to /mnt/usb/x.db",
        root,
        "/dev/pts/9",
    )
    assert got == Command(
        ["locker", "db", "backup", "--to", "/r/mnt/usb/x.db"],
        {"LOCKER_DATA_DIR": "/r/var/lib/locker"},
    )
    hub = rewrite("sudo locker hub service install --workers 2", root, "p")
    assert hub.words == ["locker", "hub", "service", "install", "--root=/r", "--workers", "2"]
    station = rewrite("sudo locker service status", root, "p")
    assert station.words == ["locker", "service", "status", "--root=/r"]
    assert (
        rewrite("locker hw scan --port /dev/lockbus-main", root, "/dev/pts/3").words[-1]
        == "/dev/pts/3"
    )


def test_every_locker_command_the_page_names_is_run() -> None:
    run = [" ".join(rewrite(line, Path("/r"), "p").words) for line in page_commands()]
    text = BLOCK.sub("", PAGE.read_text(encoding="utf-8"))
    named = {m.removeprefix("sudo ") for m in INLINE.findall(text)}
    assert named  # the page names commands in its text
    for command in named:
        stem = " ".join(w for w in command.split() if not w.startswith("-"))[:40].split(" ")
        stem = [w for w in stem if re.fullmatch(r"[a-z-]+", w)]
        assert any(r.startswith(" ".join(stem)) for r in run), command


@pytest.fixture
def simulator() -> Iterator[str]:
    """Two Kerong CU16 boards (addresses 0 and 1) on a new pty: what the page's adapter is."""
    process = subprocess.Popen(  # noqa: S603 - the project's own simulator
        [sys.executable, "-m", "sim.cli", "--pty", "--boards", "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    try:
        assert first.startswith("pty: "), first
        yield first.removeprefix("pty: ")
    finally:
        process.terminate()
        process.wait(timeout=15)


def run_all(lines: list[str], root: Path, pty: str, base: dict[str, str]) -> dict[str, str]:
    """Run ``lines`` by the rule, each to exit 0; the output of each by its first 3 words."""
    runner = CliRunner()
    outputs: dict[str, str] = {}
    for line in lines:
        command = rewrite(line, root, pty)
        env = {**base, **command.env}
        if command.words[0] == "locker":  # in this process, as the other CLI tests do
            result = runner.invoke(
                app, command.words[1:], env=env, input=f"{PASSWORD}\n{PASSWORD}\n"
            )
            output, code = result.output, result.exit_code
            if command.words[:3] == ["locker", "service", "status"] and NO_SYSTEMD in output:
                code = 0  # rule 5: under --root, no systemd says whether the units run
            assert code == 0, f"{line}\n{output}\n{result.exception!r}"
        else:
            done = subprocess.run(  # noqa: S603 - a command of the page
                command.words,
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                check=False,
            )
            output, code = done.stdout + done.stderr, done.returncode
            assert code == 0, f"{line}\n{output}"
        outputs[" ".join(command.words[:3])] = output
    return outputs


def is_station_service(line: str) -> bool:
    return rewrite(line, Path("/r"), "p").words[:2] == ["locker", "service"]


def test_every_command_of_the_page_runs(
    tmp_path: Path, simulator: str, pg_database: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, work = tmp_path / "root", tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for key in list(os.environ):
        if key.startswith(("LOCKER_", "FLEET_")):
            monkeypatch.delenv(key)
    [layout] = [b for b in blocks("toml") if "[[compartment]]" in b]
    (work / "station.toml").write_text(layout.replace("/dev/lockbus-main", simulator))
    base = {"FLEET_DATABASE_URL": pg_database.url, "FLEET_MQTT_PORT": str(free_port())}
    lines = [line for line in page_commands() if not is_station_service(line)]
    outputs = run_all(lines, root, simulator, base)
    assert outputs["locker layout check"]
    assert [row.split()[2] for row in outputs["locker hw scan"].splitlines()[1:]] == ["0", "1"]
    assert outputs["locker hw status"].splitlines()[1] == "0 1 engaged empty"
    assert outputs["locker hw open"].splitlines()[1] == "0 1 released 1"
    assert "LOCKER_HUB_STATION=shop-7" in outputs["locker hub station"]
    assert "one-time password" in outputs["locker staff add"]
    assert (root / "mnt/usb/station.db").exists()
    assert (root / "etc/locker-hub/tls/ca.pem").exists()


def test_the_station_service_commands_of_the_page_run(
    tmp_path: Path, simulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's `locker service …` lines, after the line that puts the layout in place."""
    root, work = tmp_path / "root", tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for key in list(os.environ):
        if key.startswith(("LOCKER_", "FLEET_")):
            monkeypatch.delenv(key)
    [layout] = [b for b in blocks("toml") if "[[compartment]]" in b]
    (work / "station.toml").write_text(layout.replace("/dev/lockbus-main", simulator))
    lines = page_commands()
    [placed] = [line for line in lines if "station.toml /etc/locker/" in line]
    service = [line for line in lines if is_station_service(line)]
    assert [line.split()[3] for line in service] == ["install", "status"]
    outputs = run_all([placed, *service], root, simulator, {})
    assert outputs["locker service install"]
    assert list((root / "etc/systemd/system").glob("*.service"))
