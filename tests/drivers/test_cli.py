"""`locker hw` as an installer runs it: a separate process talking to a simulator on a real port."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from sim.faults import Fault
from tests.drivers.support import PULSE_MS, Served

FAST = ["--timeout-ms", "80"]


def hw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drivers", *args], capture_output=True, text=True, timeout=60
    )


def test_status_of_one_board_prints_one_line_per_lock(sim: Served) -> None:
    sim.bus.put_item(0, 3)
    done = hw("status", "--port", sim.url, "--board", "0", *FAST)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "board lock hook item"
    assert len(lines) == 17
    assert lines[1] == "0 1 engaged empty"
    assert lines[3] == "0 3 engaged present"


def test_status_without_a_board_lists_every_board_that_answers(sim: Served) -> None:
    done = hw("status", "--port", sim.url, *FAST)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[1:]]
    assert sorted({row[0] for row in rows}) == ["0", "1"]
    assert len(rows) == 32


def test_open_reports_the_hook_after_the_pulse(sim: Served) -> None:
    done = hw(
        "open", "--port", sim.url, "--board", "1", "--lock", "5", "--pulse-ms", str(PULSE_MS), *FAST
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["board lock hook pulses", "1 5 released 1"]
    assert sim.bus.unlock_count(1, 5) == 1
    after = hw("status", "--port", sim.url, "--board", "1", *FAST)
    assert "1 5 released empty" in after.stdout.splitlines()


def test_open_of_a_stuck_lock_exits_3(sim: Served) -> None:
    sim.bus.inject(Fault.STUCK_LATCH, board=0, lock=2)
    done = hw(
        "open", "--port", sim.url, "--board", "0", "--lock", "2", "--pulse-ms", str(PULSE_MS), *FAST
    )
    assert done.returncode == 3
    assert done.stdout.splitlines()[1] == "0 2 engaged 2"
    assert done.stderr.startswith("error: ")
    assert len(done.stderr.splitlines()) == 1


def test_open_without_a_read_back_exits_1_and_says_unknown(sim: Served) -> None:
    sim.bus.inject(Fault.NO_ANSWER, board=0)
    done = hw(
        "open", "--port", sim.url, "--board", "0", "--lock", "2", "--pulse-ms", str(PULSE_MS), *FAST
    )
    assert done.returncode == 1
    assert done.stdout.splitlines()[1] == "0 2 unknown 1"
    assert sim.bus.unlock_count(0, 2) == 1


@pytest.mark.parametrize("args", [["--board", "5"], []], ids=["one board", "whole bus"])
def test_a_silent_bus_exits_1_with_one_line(sim: Served, args: list[str]) -> None:
    sim.bus.inject(Fault.GONE)
    done = hw("status", "--port", sim.url, *args, *FAST)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("error: ")
    assert len(done.stderr.splitlines()) == 1


def test_a_missing_port_exits_1_with_one_line() -> None:
    done = hw("status", "--port", "/dev/no-such-adapter", "--board", "0")
    assert done.returncode == 1
    assert done.stderr.startswith("error: ")
    assert "no-such-adapter" in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_pulse_is_queried_and_set(sim: Served) -> None:
    done = hw("pulse", "--port", sim.url, "--board", "1", *FAST)
    assert done.stdout.splitlines() == ["board pulse_ms", f"1 {PULSE_MS}"]
    done = hw("pulse", "--port", sim.url, "--board", "1", "--set", "700", *FAST)
    assert done.stdout.splitlines() == ["board pulse_ms", "1 700"]
    assert sim.bus.board(1).pulse_ms == 700


def test_cu12_boards_are_chosen_with_type(make_sim: Callable[..., Served]) -> None:
    served = make_sim("cu12", (2,))
    done = hw("status", "--port", served.url, "--board", "2", "--type", "cu12", *FAST)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == "2 1 engaged -"
    assert len(done.stdout.splitlines()) == 13


def test_usage_errors_exit_2() -> None:
    assert hw("open", "--port", "loop://", "--board", "0", "--lock", "17").returncode == 2
    assert hw("status", "--port", "loop://", "--type", "cu99").returncode == 2


def test_help_documents_the_output() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "drivers.cli", "status", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "board lock hook item" in done.stdout
