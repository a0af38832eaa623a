"""The ``locker`` command as an installer or a newcomer runs it: real processes, real files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from locker.db import head_revision

LOCKER = [sys.executable, "-c", "from api.cli import app; app()"]


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOCKER, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_layout_check_summarises_the_demo(tmp_path: Path) -> None:
    done = run("layout", "check", cwd=tmp_path)
    assert done.returncode == 0
    assert "2 board(s), 32 compartments" in done.stdout


def test_layout_check_lists_problems_with_lines(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[bus]]\nid = "a"\nport = "sim"\n[[board]]\naddress = 0\n'
        '[[compartment]]\nid = 1\nboard = 2\nlock = 1\nsize = "M"\n'
    )
    done = run("layout", "check", str(bad), cwd=tmp_path)
    assert done.returncode == 1
    assert f"{bad}:8: unknown board 2 on bus 'a'" in done.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    env = {"LOCKER_DATA_DIR": str(tmp_path / "data")}
    assert run("db", "current", cwd=tmp_path, env=env).stdout.strip() == "none"
    done = run("db", "upgrade", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"at revision {head_revision()}")
    assert run("db", "current", cwd=tmp_path, env=env).stdout.strip() == head_revision()


def test_serve_demo_deposits_and_collects_through_the_simulator(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*LOCKER, "serve", "--demo", "--data-dir", str(tmp_path / "var")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("watching the doors"):
            break
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    lines.extend(out.splitlines())
    assert process.returncode == 0, err
    text = "\n".join(lines)
    assert "bus main: simulated, 19200 baud" in text
    assert "courier: compartment 5 opened" in text
    assert "customer: PIN opened compartment 5: opened" in text
    assert lines[-1] == "station stopped"
    assert (tmp_path / "var" / "station.db").exists()
    assert (tmp_path / "var" / "code.key").stat().st_mode & 0o077 == 0
