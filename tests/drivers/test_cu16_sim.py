"""The CU16 driver against the simulator, over a real pty and a real TCP socket."""

from __future__ import annotations

import threading
from collections.abc import Callable

from drivers.bus import LockBus
from drivers.kerong_cu16 import (
    CMD_BUS_STATUS,
    CMD_PULSE,
    CMD_STATUS,
    CMD_UNLOCK,
    Cu16Board,
    Cu16Request,
)
from tests.drivers.support import PULSE_MS, Served, cu16


def commands(sim: Served) -> list[Cu16Request]:
    """Every valid frame the simulated boards received, decoded by the driver's codec."""
    return [Cu16Request.from_bytes(raw) for _, raw in sim.bus.frames_received]


def test_a_fresh_board_reads_all_locks_engaged_and_empty(sim: Served, line: LockBus) -> None:
    status = cu16(line, 0).status()
    assert status.address == 0
    assert len(status.locks) == 16
    assert all(s.hook_engaged and s.item_present is False for s in status.locks)
    assert [c.command for c in commands(sim)] == [CMD_STATUS]


def test_status_reports_items_per_lock(sim: Served, line: LockBus) -> None:
    sim.bus.put_item(0, 3)
    sim.bus.put_item(0, 16)
    status = cu16(line, 0).status()
    assert [n for n in range(1, 17) if status.lock(n).item_present] == [3, 16]
    sim.bus.take_item(0, 3)
    assert cu16(line, 0).status().lock(3).item_present is False


def test_unlock_sends_one_pulse_and_confirms_with_a_fresh_read(sim: Served, line: LockBus) -> None:
    result = cu16(line, 0).unlock(3)
    assert result.released is True
    assert result.pulses == 1
    assert result.state is not None
    assert not result.state.hook_engaged
    assert sim.bus.unlock_count(0, 3) == 1
    assert sim.bus.lock_state(0, 3).door_open
    sent = commands(sim)
    assert [(c.command, c.address) for c in sent] == [(CMD_UNLOCK, 0x02), (CMD_STATUS, 0x00)]
    # the read-back comes after the pulse has ended on the (modelled) wire
    (t_unlock, _), (t_read, _) = sim.bus.frames_received
    assert t_read - t_unlock >= PULSE_MS / 1000


def test_a_door_pushed_shut_reads_engaged_again(sim: Served, line: LockBus) -> None:
    board = cu16(line, 1)
    assert board.unlock(5).released
    assert not board.status().lock(5).hook_engaged
    sim.bus.close_door(1, 5)
    assert board.status().lock(5).hook_engaged


def test_unlocking_an_open_door_reports_released_after_one_pulse(
    sim: Served, line: LockBus
) -> None:
    board = cu16(line, 0)
    board.unlock(7)
    again = board.unlock(7)
    assert again.released is True
    assert again.pulses == 1
    assert sim.bus.unlock_count(0, 7) == 2


def test_several_boards_are_addressed_independently(sim: Served, line: LockBus) -> None:
    first, second = cu16(line, 0), cu16(line, 1)
    assert second.unlock(16).released
    assert first.status().lock(16).hook_engaged
    assert not second.status().lock(16).hook_engaged
    assert sim.bus.unlock_count(0, 16) == 0
    assert Cu16Request.unlock(1, 16).to_bytes() in [raw for _, raw in sim.bus.frames_received]


def test_whole_bus_read_is_one_request_answered_by_every_board(
    make_sim: Callable[..., Served], make_bus: Callable[..., LockBus]
) -> None:
    sim = make_sim("cu16", range(10))
    line = make_bus(sim.url)
    sim.bus.put_item(9, 1)
    boards = [cu16(line, a) for a in range(10)]
    boards[4].unlock(2)
    before = len(sim.bus.frames_received)
    statuses = Cu16Board.read_bus(line, boards)
    assert sorted(statuses) == list(range(10))
    assert statuses[9].lock(1).item_present
    assert not statuses[4].lock(2).hook_engaged
    assert [c.command for c in commands(sim)[before:]] == [CMD_BUS_STATUS]
    assert line.counters().replies >= 10
    assert line.counters().timeouts == 0


def test_whole_bus_read_leaves_out_a_board_that_is_not_there(sim: Served, line: LockBus) -> None:
    boards = [cu16(line, a) for a in (0, 1, 2)]  # board 2 is not on the simulated bus
    statuses = Cu16Board.read_bus(line, boards)
    assert sorted(statuses) == [0, 1]
    counters = line.counters()
    assert counters.timeouts == line.retries + 1  # every attempt waited for board 2
    assert counters.retries == line.retries


def test_pulse_time_is_queried_and_set_respecting_the_flash_write(
    sim: Served, line: LockBus
) -> None:
    board = cu16(line, 1)
    assert board.query_pulse() == PULSE_MS
    assert board.set_pulse(120) == 120
    # the board ignores input for 0.5 s after the set: the next read must still succeed
    assert board.query_pulse() == 120
    assert board.pulse_ms == 120
    assert sim.bus.board(1).pulse_ms == 120
    assert line.counters().timeouts == 0
    pulses = [c for c in commands(sim) if c.command == CMD_PULSE]
    assert [c.data for c in pulses] == [b"", bytes([0, 12]), b""]
    times = [t for t, raw in sim.bus.frames_received if raw[2] == CMD_PULSE]
    assert times[2] - times[1] > 0.5


def test_hook_polarity_engaged_low_is_applied(
    make_sim: Callable[..., Served], make_bus: Callable[..., LockBus]
) -> None:
    sim = make_sim("cu16", (0,), hook_polarity="engaged_low")
    board = cu16(make_bus(sim.url), 0, hook_polarity="engaged_low")
    assert all(s.hook_engaged for s in board.status().locks)
    assert board.unlock(2).released
    assert not board.status().lock(2).hook_engaged


def test_without_ir_strips_item_presence_is_unknown(
    make_sim: Callable[..., Served], make_bus: Callable[..., LockBus]
) -> None:
    sim = make_sim("cu16", (0,), ir_sensors=False)
    board = cu16(make_bus(sim.url), 0, ir_sensors=False)
    assert all(s.item_present is None for s in board.status().locks)


def test_status_reads_from_several_threads_never_interleave(sim: Served, line: LockBus) -> None:
    errors: list[BaseException] = []

    def work(address: int) -> None:
        try:
            for _ in range(5):
                assert cu16(line, address).status().address == address
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a % 2,)) for a in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counters = line.counters()
    assert counters.requests == 20
    assert counters.unexpected_answers == counters.checksum_errors == counters.timeouts == 0
