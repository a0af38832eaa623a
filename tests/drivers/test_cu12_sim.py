"""The CU12 driver against the simulator: the same board interface, a protocol that answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from drivers.bus import LockBus
from drivers.errors import BoardRefused
from drivers.kerong_cu12 import ANSWER_RULE, CMD_UNLOCK, Cu12Board, Cu12Frame
from sim.faults import Fault
from tests.drivers.support import PULSE_MS, Served, cu12


@pytest.fixture
def sim12(make_sim: Callable[..., Served]) -> Served:
    return make_sim("cu12", (0, 3))


@pytest.fixture
def line12(sim12: Served, make_bus: Callable[..., LockBus]) -> LockBus:
    return make_bus(sim12.url)


def unlocks(sim: Served) -> list[Cu12Frame]:
    frames = (Cu12Frame.from_bytes(raw) for _, raw in sim.bus.frames_received)
    return [f for f in frames if f.command == CMD_UNLOCK]


def test_status_has_twelve_locks_and_no_item_sensing(sim12: Served, line12: LockBus) -> None:
    status = cu12(line12, 3).status()
    assert status.address == 3
    assert len(status.locks) == 12
    assert all(s.hook_engaged and s.item_present is None for s in status.locks)


def test_unlock_is_acknowledged_then_confirmed_by_a_read(sim12: Served, line12: LockBus) -> None:
    result = cu12(line12, 0).unlock(12)
    assert result.released is True
    assert result.pulses == 1
    assert sim12.bus.unlock_count(0, 12) == 1
    assert [(f.address, f.lock) for f in unlocks(sim12)] == [(0, 11)]
    assert line12.counters().refusals == 0


def test_whole_bus_read_collects_every_board(sim12: Served, line12: LockBus) -> None:
    boards = [cu12(line12, 0), cu12(line12, 3)]
    boards[1].unlock(1)
    statuses = Cu12Board.read_bus(line12, boards)
    assert sorted(statuses) == [0, 3]
    assert not statuses[3].lock(1).hook_engaged
    assert statuses[0].lock(1).hook_engaged


def test_pulse_time_is_queried_and_set(sim12: Served, line12: LockBus) -> None:
    board = cu12(line12, 3)
    assert board.query_pulse() == PULSE_MS
    assert board.set_pulse(250) == 250
    assert board.query_pulse() == 250
    assert line12.counters().timeouts == 0


def test_a_lost_unlock_acknowledgement_still_ends_in_a_fresh_read(
    sim12: Served, line12: LockBus
) -> None:
    sim12.bus.inject(Fault.NO_ANSWER, board=0, lock=4, count=1)  # only the unlock's answer
    result = cu12(line12, 0).unlock(4)
    assert result.released is True  # the board did pulse; the read-back proves it
    assert result.pulses == 1
    assert sim12.bus.unlock_count(0, 4) == 1


def test_a_stuck_latch_gets_exactly_one_more_pulse(sim12: Served, line12: LockBus) -> None:
    sim12.bus.inject(Fault.STUCK_LATCH, board=3, lock=7)
    result = cu12(line12, 3).unlock(7)
    assert result.released is False
    assert result.pulses == 2
    assert sim12.bus.unlock_count(3, 7) == 2


def test_a_failure_code_is_a_refusal_and_is_not_retried(sim12: Served, line12: LockBus) -> None:
    bad_lock = Cu12Frame(0, 0x0D, CMD_UNLOCK)  # LOCKNUM beyond 0x0C: the board says "failed"

    def accept(raw: bytes) -> Cu12Frame | None:
        frame = Cu12Frame.from_bytes(raw)
        frame.check_ask()
        return frame

    with pytest.raises(BoardRefused) as caught:
        line12.request(bad_lock.to_bytes(), ANSWER_RULE, accept, retries=0)
    assert caught.value.code == 0x11
    assert line12.counters().refusals == 1
    assert len(sim12.bus.frames_received) == 1


def test_a_request_damaged_on_the_line_is_refused_and_a_read_is_sent_again(
    sim12: Served, line12: LockBus
) -> None:
    damaged = bytearray(Cu12Frame.status(0).to_bytes())
    damaged[7] ^= 0x01  # wrong SUM: the board answers ASK 0x14 and does nothing

    def accept(raw: bytes) -> Cu12Frame | None:
        frame = Cu12Frame.from_bytes(raw)
        frame.check_ask()
        return frame

    with pytest.raises(BoardRefused) as caught:
        line12.request(bytes(damaged), ANSWER_RULE, accept)
    assert caught.value.code == 0x14
    assert caught.value.retriable
    counters = line12.counters()
    assert counters.refusals == line12.retries + 1
    assert counters.retries == line12.retries
    assert counters.timeouts == 0
