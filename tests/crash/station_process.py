"""``locker serve`` as a separate process, started, waited for, stopped and killed for real.

Its output goes to files (a pipe nobody reads would fill up and stall the station), one
pair per start, so a failing run leaves the station's own words beside the test.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

LOCKER = [sys.executable, "-c", "from api.cli import app; app()"]
START_TIMEOUT_S = 60.0
SETTLED_LINE = re.compile(r"^\d+ interrupted door operations? settled: (.*)$")
SETTLED = re.compile(r"#(\d+) compartment (\d+) (\w+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(*args: str, home: Path, env: dict[str, str]) -> str:
    """One ``locker`` command (e.g. ``courier add``); its stdout, or the test fails."""
    done = subprocess.run(
        [*LOCKER, *args],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, f"locker {' '.join(args)}: {done.stderr}"
    return done.stdout


def wait_for(
    what: str, ready: Callable[[], bool], timeout_s: float = 10.0, step_s: float = 0.01
) -> None:
    """Poll ``ready()`` until it is true; a deadline, not a timing assertion."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(step_s)


@dataclass
class StationProcess:
    """One run of ``locker serve`` on a layout and a data directory."""

    home: Path  # the working directory (no stray .env is read from elsewhere)
    layout: Path
    data_dir: Path
    port: int
    extra_env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()  # more options of ``locker serve``, e.g. ``--sim``
    process: subprocess.Popen[bytes] | None = None
    out_path: Path | None = None
    err_path: Path | None = None
    start_s: list[float] = field(default_factory=list)  # how long each start took to answer

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("LOCKER_CRASH")}
        return {
            **clean,
            "LOCKER_DATA_DIR": str(self.data_dir),
            "LOCKER_LAYOUT": str(self.layout),
            **self.extra_env,
        }

    def start(self, crash: dict[str, str] | None = None) -> list[str]:
        """Start the station (with ``LOCKER_CRASH_*`` from ``crash``) and wait until it
        answers; returns its start-up lines."""
        assert self.process is None, "the station is already running"
        began = time.monotonic()
        logs = self.home / "logs"
        logs.mkdir(exist_ok=True)
        self.out_path = logs / f"station-{len(self.start_s) + 1}.out"
        self.err_path = err_path = logs / f"station-{len(self.start_s) + 1}.err"
        with self.out_path.open("wb") as out, err_path.open("wb") as err:
            self.process = subprocess.Popen(
                [*LOCKER, "serve", "--port", str(self.port), *self.args],
                cwd=self.home,
                stdout=out,
                stderr=err,
                env={**self.env, **(crash or {})},
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._answers():
            if self.process.poll() is not None:
                if "address already in use" in err_path.read_text():
                    # another program took the port between two starts (an outgoing
                    # connection's ephemeral port, on a busy machine): a new one, again
                    self.process = None
                    self.port = free_port()
                    return self.start(crash)
                raise AssertionError(
                    f"locker serve ended early ({self.process.returncode}):\n"
                    f"{self.out_path.read_text()}\n{err_path.read_text()}"
                )
            if time.monotonic() > deadline:
                self.process.kill()  # no station is left behind by a failed start
                self.process.wait(timeout=30)
                self.process = None
                raise AssertionError("the station never answered")
            time.sleep(0.02)
        self.start_s.append(time.monotonic() - began)
        return self.lines()

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def lines(self) -> list[str]:
        assert self.out_path is not None
        return self.out_path.read_text().splitlines()

    def crash_points(self) -> list[str]:
        """Where the crash points stopped this run so far (its stderr says so)."""
        assert self.err_path is not None
        text = self.err_path.read_text(errors="replace")
        return [m[1] for m in re.finditer(r"^crash point (\w+): ", text, re.MULTILINE)]

    def settled(self) -> list[tuple[int, int, str]]:
        """What start-up reconcile said: (door op, compartment, verdict) per interrupted one."""
        lines = (SETTLED_LINE.match(line) for line in self.lines())
        return [
            (int(m[1]), int(m[2]), m[3])
            for line in lines
            if line
            for m in SETTLED.finditer(line[1])
        ]

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_killed(self, timeout_s: float = 30.0) -> int:
        """Wait for the process to end by itself (a crash point); returns its exit status."""
        assert self.process is not None
        code = self.process.wait(timeout=timeout_s)
        self.process = None
        return code

    def kill(self) -> int:
        """SIGKILL from outside (after the HTTP answer arrived)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        return self.wait_killed()

    def stop(self) -> None:
        """A clean stop (SIGTERM), as an operator would."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.process = None
        assert code == 0, f"locker serve stopped with {code}"

    def frozen(self) -> bool:
        """Stopped by SIGSTOP (its own or ours): every thread in state ``T``."""
        return frozen(self.pid)


def frozen(pid: int) -> bool:
    """Every thread of ``pid`` is stopped (state ``T`` in /proc): a still image."""
    states = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            states.add((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
        except FileNotFoundError:  # a thread that just ended
            continue
    return bool(states) and states <= {"T", "t"}
