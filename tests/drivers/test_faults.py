"""Every injected fault: the driver retries reads, gives up cleanly and never claims too much.

Two rules are checked throughout: a door is reported released only when a fresh read showed
its hook released, and a lock is never pulsed a second time without a fresh read in between.
"""

from __future__ import annotations

import pytest

from drivers.bus import LockBus
from drivers.errors import BadFrame, NoAnswer
from drivers.kerong_cu16 import CMD_STATUS, CMD_UNLOCK, Cu16Board, Cu16Request
from sim.faults import Fault
from tests.drivers.support import Served, cu16


def sequence(sim: Served, board: int) -> list[str]:
    """'unlock L' / 'read' for every frame board ``board`` received, in order."""
    out = []
    for _, raw in sim.bus.frames_received:
        request = Cu16Request.from_bytes(raw)
        if request.board != board:
            continue
        if request.command == CMD_UNLOCK:
            out.append(f"unlock {request.lock}")
        elif request.command == CMD_STATUS:
            out.append("read")
    return out


def assert_never_pulsed_twice_without_a_read(sim: Served, board: int) -> None:
    last: str | None = None
    for item in sequence(sim, board):
        if item.startswith("unlock"):
            assert last != item, f"two unlocks without a read between them: {sequence(sim, board)}"
            last = item
        else:
            last = None


# -- reads ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "delay_s"),
    [
        (Fault.NO_ANSWER, 0.0),
        (Fault.CORRUPT_BYTE, 0.0),
        (Fault.TRUNCATED, 0.0),
        (Fault.GONE, 0.0),
        (Fault.LATE_ANSWER, 0.12),  # later than one attempt's deadline (0.085 s)
    ],
    ids=lambda v: v.name if isinstance(v, Fault) else "",
)
def test_a_read_hit_once_by_a_fault_is_retried_and_succeeds(
    sim: Served, line: LockBus, fault: Fault, delay_s: float
) -> None:
    sim.bus.inject(fault, board=0, count=1, delay_s=delay_s)
    status = cu16(line, 0).status()
    assert all(s.hook_engaged for s in status.locks)
    counters = line.counters()
    assert counters.retries >= 1
    assert counters.timeouts >= 1
    if fault is Fault.CORRUPT_BYTE:
        assert counters.checksum_errors == 1
    if fault is Fault.TRUNCATED:
        assert counters.dropped_bytes >= 4


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.NO_ANSWER, NoAnswer),
        (Fault.GONE, NoAnswer),
        (Fault.CORRUPT_BYTE, BadFrame),
        (Fault.TRUNCATED, BadFrame),
    ],
    ids=lambda v: v.name if isinstance(v, Fault) else "",
)
def test_a_read_that_keeps_failing_gives_up_after_the_retries(
    sim: Served, line: LockBus, fault: Fault, error: type[Exception]
) -> None:
    sim.bus.inject(fault, board=1)
    board = cu16(line, 1)
    with pytest.raises(error):
        board.status()
    counters = line.counters()
    assert counters.requests == 1
    assert counters.retries == line.retries
    assert counters.timeouts == line.retries + 1
    assert sequence(sim, 1) == ["read"] * (line.retries + 1)  # sent on the line every time
    # the bus is still usable: the other board answers, and this one once the fault is gone
    assert cu16(line, 0).status().address == 0
    sim.bus.clear_faults()
    assert board.status().address == 1


def test_a_late_answer_within_the_deadline_needs_no_retry(sim: Served, line: LockBus) -> None:
    sim.bus.inject(Fault.LATE_ANSWER, board=0, delay_s=line.timeout_s / 3)
    cu16(line, 0).status()
    assert line.counters().retries == 0


def test_a_lying_sensor_is_reported_as_the_board_reports_it(sim: Served, line: LockBus) -> None:
    sim.bus.inject(Fault.LYING_SENSOR, board=0, lock=4)
    status = cu16(line, 0).status()
    assert not status.lock(4).hook_engaged  # the board says so; the driver cannot know better
    assert status.lock(5).hook_engaged
    assert sim.bus.lock_state(0, 4).latched


def test_whole_bus_read_returns_the_boards_that_answered(sim: Served, line: LockBus) -> None:
    sim.bus.inject(Fault.NO_ANSWER, board=1)
    statuses = Cu16Board.read_bus(line, [cu16(line, 0), cu16(line, 1)])
    assert sorted(statuses) == [0]


def test_whole_bus_read_survives_a_corrupted_answer(sim: Served, line: LockBus) -> None:
    sim.bus.inject(Fault.CORRUPT_BYTE, board=0, count=1)
    statuses = Cu16Board.read_bus(line, [cu16(line, 0), cu16(line, 1)])
    assert sorted(statuses) == [0, 1]
    assert line.counters().checksum_errors == 1


# -- unlocks -------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [Fault.NO_ANSWER, Fault.CORRUPT_BYTE, Fault.TRUNCATED])
def test_a_read_back_hit_once_is_retried_by_the_bus_not_by_pulsing(
    sim: Served, line: LockBus, fault: Fault
) -> None:
    sim.bus.inject(fault, board=0, count=1)
    result = cu16(line, 0).unlock(3)
    assert result.released is True
    assert result.pulses == 1
    assert sim.bus.unlock_count(0, 3) == 1
    assert line.counters().retries == 1


@pytest.mark.parametrize("fault", [Fault.NO_ANSWER, Fault.CORRUPT_BYTE, Fault.TRUNCATED])
def test_a_failed_read_back_reports_nothing_known_and_never_pulses_again(
    sim: Served, line: LockBus, fault: Fault
) -> None:
    sim.bus.inject(fault, board=0)
    result = cu16(line, 0).unlock(3)
    assert result.released is None
    assert result.pulses == 1
    assert result.state is None
    assert sim.bus.unlock_count(0, 3) == 1
    # the board did pulse (only its answers are lost): the door really is open
    assert sim.bus.lock_state(0, 3).door_open
    assert sequence(sim, 0) == ["unlock 3"] + ["read"] * (line.retries + 1)


def test_a_gone_board_is_not_reported_open(sim: Served, line: LockBus) -> None:
    sim.bus.inject(Fault.GONE, board=0)
    result = cu16(line, 0).unlock(3)
    assert result.released is None
    assert sim.bus.unlock_count(0, 3) == 0
    assert sim.bus.lock_state(0, 3).latched


def test_a_stuck_latch_gets_one_more_pulse_after_a_fresh_read(sim: Served, line: LockBus) -> None:
    sim.bus.inject(Fault.STUCK_LATCH, board=0, lock=6)
    result = cu16(line, 0).unlock(6)
    assert result.released is False
    assert result.pulses == 2
    assert result.state is not None
    assert result.state.hook_engaged
    assert sim.bus.unlock_count(0, 6) == 2
    assert sequence(sim, 0) == ["unlock 6", "read", "unlock 6", "read"]
    assert_never_pulsed_twice_without_a_read(sim, 0)


def test_a_latch_stuck_once_releases_on_the_second_pulse(sim: Served, line: LockBus) -> None:
    sim.bus.inject(Fault.STUCK_LATCH, board=1, lock=2, count=1)
    result = cu16(line, 1).unlock(2)
    assert result.released is True
    assert result.pulses == 2
    assert sim.bus.lock_state(1, 2).door_open
    assert_never_pulsed_twice_without_a_read(sim, 1)


def test_a_lying_sensor_never_makes_the_driver_claim_an_opening(sim: Served, line: LockBus) -> None:
    board = cu16(line, 0)
    assert board.unlock(9).released  # the door is open, its hook released
    sim.bus.inject(Fault.LYING_SENSOR, board=0, lock=9)  # from now on the bit reads "engaged"
    result = board.unlock(9)
    assert result.released is False  # the board never confirmed it: not reported open
    assert result.pulses == 2
    assert sim.bus.unlock_count(0, 9) == 3
    assert_never_pulsed_twice_without_a_read(sim, 0)
