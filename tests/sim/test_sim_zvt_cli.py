"""``python -m sim.zvt`` as a real subprocess: where it listens, a payment at it, a fault
switched on from the command line, a clean stop."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from drivers.zvt import ZvtTerminal
from locker.payments.terminal import TerminalOutcome
from tests.zvt_support import FAST

STARTUP_TIMEOUT_S = 30.0


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.zvt", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], STARTUP_TIMEOUT_S)
        assert ready, "the simulator printed nothing"
        yield proc, proc.stdout.readline().strip()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def _terminal(line: str) -> ZvtTerminal:
    # "zvt: 127.0.0.1:PORT password NNNNNN"
    _, where, _, password = line.split()
    host, port = where.rsplit(":", 1)
    return ZvtTerminal(host, int(port), password=password, timeouts=FAST)


def test_the_cli_serves_a_terminal_and_stops_on_sigterm() -> None:
    with running("--fast", "--password", "246810") as (proc, line):
        assert line.startswith("zvt: 127.0.0.1:")
        assert line.endswith("password 246810")
        terminal = _terminal(line)
        assert terminal.register()
        assert terminal.authorise(1999, lambda text: None).outcome is TerminalOutcome.APPROVED
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=STARTUP_TIMEOUT_S)
        assert proc.returncode == 0, err


def test_a_fault_is_switched_on_from_the_command_line() -> None:
    with running("--fast", "--fault", "declined") as (_, line):
        result = _terminal(line).authorise(500, lambda text: None)
        assert result.outcome is TerminalOutcome.DECLINED


def test_a_bad_password_is_refused_with_a_message() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sim.zvt", "--password", "12"],
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
    )
    assert done.returncode == 2
    assert "6 digits" in done.stderr
