"""``make fleet`` as a person runs it, for tests/fleet/test_fleet_demo.py: ``python -m
fleet.demo`` in a folder of the test's, its terminal a pipe (what it prints is read line by
line, what is typed goes to its stdin), Ctrl-C as SIGINT; and the other shell's commands.

The demo starts its own PostgreSQL (kept in its folder, or in /var/tmp when the engine user
cannot reach that folder: :func:`fleet.demo.postgres_folder`) and its own Mosquitto: it is
the thing under test, so the session's engine fixtures are not used for it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from fleet.demo import postgres_folder

WAIT = 90.0  # a bound on waiting for what should happen (the machine is shared), never a check
T = TypeVar("T")


def poll(what: Callable[[], T | None], timeout: float = WAIT, every: float = 0.2) -> T:
    """``what()`` once it is not None (or falsy); an AssertionError when it never is."""
    deadline = time.monotonic() + timeout
    while True:
        got = what()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout:.0f} s: {what}")
        time.sleep(every)


def clean_env() -> dict[str, str]:
    """The test's environment without its own station or hub settings (a person's shell)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("LOCKER_", "FLEET_"))}


class DemoRun:
    """One run of the demo. :meth:`expect` waits for a printed line matching a pattern,
    after the line the previous :meth:`expect` matched (what is printed is read in order)."""

    def __init__(self, home: Path, stations: int) -> None:
        self.home = home
        env = {**clean_env(), "FLEET_DEMO_DIR": str(home), "FLEET_DEMO_STATIONS": str(stations)}
        self.process = subprocess.Popen(  # noqa: S603 - the demo, as `make fleet` runs it
            [sys.executable, "-m", "fleet.demo"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # its own group: a failed test can still end all of it
        )
        self.lines: list[str] = []
        self.seen = 0
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True, name="demo-stdout")
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.lines.append("")  # (the end: wakes the waiting expect)
            self.changed.notify_all()

    def expect(self, pattern: str, timeout: float = WAIT) -> re.Match[str]:
        """The first line from here on that matches ``pattern`` (re.search)."""
        wanted = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                while self.seen < len(self.lines):
                    line = self.lines[self.seen]
                    self.seen += 1
                    found = wanted.search(line)
                    if found:
                        return found
                if not self.reader.is_alive() or time.monotonic() > deadline:
                    shown = "\n".join(self.lines[-40:])
                    raise AssertionError(
                        f"the demo never printed {pattern!r}; it printed:\n{shown}"
                    )
                self.changed.wait(timeout=1)

    def printed(self) -> str:
        with self.changed:
            return "\n".join(self.lines)

    def type(self, line: str) -> None:
        """A line typed at the demo's terminal."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def interrupt(self) -> int:
        """Ctrl-C: the demo stops what it started and ends; its exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=WAIT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:  # it hung: its group, started by us, goes
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.reader.join(timeout=10)


@contextmanager
def demo_run(home: Path, stations: int = 1) -> Iterator[DemoRun]:
    run = DemoRun(home, stations)
    try:
        yield run
    finally:
        run.close()


def remove_demo(home: Path) -> None:
    """The demo's folder and its PostgreSQL cluster, also when that was kept in /var/tmp."""
    cluster = postgres_folder(home)
    if not cluster.is_relative_to(home):
        shutil.rmtree(cluster.parent, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)


def shell(command: str) -> subprocess.CompletedProcess[str]:
    """A command line as printed by the demo, run by bash in a person's other shell."""
    return subprocess.run(  # noqa: S603 - the demo's own printed line
        ["/bin/bash", "-c", command],  # noqa: S607
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )


def station_pid(port: int) -> int:
    """The process of the demo station serving on ``port`` (read from /proc)."""
    wanted = ["serve", "--demo", "--port", str(port)]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if any(args[i : i + len(wanted)] == wanted for i in range(len(args))):
            return int(entry.name)
    raise AssertionError(f"no station process serves on port {port}")


def gone(pid: int) -> bool:
    """The process ended and was reaped (no zombie left: /proc has no entry for it)."""
    return not Path(f"/proc/{pid}").exists()
