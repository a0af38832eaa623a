"""SerialLocks (locker.locks.Locks) over a two-board layout served by the simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from drivers.base import BoardBase
from drivers.kerong_cu16 import CMD_BUS_STATUS, CMD_STATUS, Cu16Request
from drivers.station_locks import SerialLocks
from locker.layout import Layout, LayoutError, parse_layout
from locker.locks import DoorOutcome, DoorReading, Locks
from locker.types import CompartmentId
from sim.faults import Fault
from tests.drivers.support import MARGIN_S, PULSE_MS, Served

LAYOUT = f"""
[station]
name = "test station"

[[bus]]
id = "main"
port = "sim"
baud = 19200
timeout_ms = 80

[[board]]
address = 0
type = "{{kind}}"
pulse_ms = {PULSE_MS}

[[board]]
address = 1
type = "{{kind}}"
pulse_ms = {PULSE_MS}
ir_sensors = {{ir}}

[[compartment]]
id = 1
board = 0
lock = 1
size = "S"

[[compartment]]
id = 2
board = 0
lock = 2
size = "M"

[[compartment]]
id = 3
board = 1
lock = 1
size = "L"

[[compartment]]
id = 4
board = 1
lock = 12
size = "XL"
"""

C1, C2, C3, C4 = (CompartmentId(n) for n in (1, 2, 3, 4))


def layout(kind: str = "cu16", ir: bool = True) -> Layout:
    text = LAYOUT.replace("{kind}", kind).replace("{ir}", str(ir).lower())
    return parse_layout(text, source="test.toml")


@pytest.fixture
def sim(make_sim: Callable[..., Served]) -> Served:
    return make_sim("cu16", (0, 1), boards={1: {"ir_sensors": False}})


@pytest.fixture
def locks(sim: Served) -> Iterator[SerialLocks]:
    with SerialLocks(layout(ir=False), {"main": sim.url}) as serial_locks:
        for board in (serial_locks.board("main", 0), serial_locks.board("main", 1)):
            board.release_margin_s = MARGIN_S
        yield serial_locks


def requests(sim: Served) -> list[int]:
    return [Cu16Request.from_bytes(raw).command for _, raw in sim.bus.frames_received]


def test_serial_locks_is_a_locks(locks: SerialLocks) -> None:
    assert isinstance(locks, SerialLocks)
    implementation: Locks = locks  # checked by mypy: SerialLocks satisfies the protocol
    assert implementation is locks


def test_open_reports_opened_once_the_hook_is_seen_released(
    sim: Served, locks: SerialLocks
) -> None:
    assert locks.open(C3) is DoorOutcome.OPENED
    assert sim.bus.unlock_count(1, 1) == 1
    assert locks.read([C3]) == {C3: DoorReading(latched=False, occupied=None)}


def test_reading_everything_uses_one_whole_bus_request(sim: Served, locks: SerialLocks) -> None:
    sim.bus.put_item(0, 2)
    readings = locks.read()
    assert readings == {
        C1: DoorReading(True, False),
        C2: DoorReading(True, True),
        C3: DoorReading(True, None),  # board 1 has no IR strips
        C4: DoorReading(True, None),
    }
    assert requests(sim) == [CMD_BUS_STATUS]


def test_reading_one_board_uses_its_own_status_request(sim: Served, locks: SerialLocks) -> None:
    assert set(locks.read([C1, C2])) == {C1, C2}
    assert requests(sim) == [CMD_STATUS]


def test_a_lock_that_stays_engaged_is_refused(sim: Served, locks: SerialLocks) -> None:
    sim.bus.inject(Fault.STUCK_LATCH, board=0, lock=2)
    assert locks.open(C2) is DoorOutcome.REFUSED
    assert sim.bus.unlock_count(0, 2) == 2


def test_a_silent_board_gives_no_answer_and_is_left_out_of_readings(
    sim: Served, locks: SerialLocks
) -> None:
    sim.bus.inject(Fault.NO_ANSWER, board=1)
    assert locks.open(C4) is DoorOutcome.NO_ANSWER
    assert sim.bus.unlock_count(1, 12) == 1  # pulsed once, never again
    readings = locks.read()
    assert set(readings) == {C1, C2}
    assert locks.read([C3]) == {}


def test_a_missing_port_gives_outcomes_not_exceptions() -> None:
    with SerialLocks(layout(), {"main": "socket://127.0.0.1:9"}) as serial_locks:
        assert serial_locks.open(C1) is DoorOutcome.NO_ANSWER
        assert serial_locks.read() == {}
        assert serial_locks.health()["main"].port_errors >= 1


def test_health_shows_the_counters_of_every_bus(sim: Served, locks: SerialLocks) -> None:
    sim.bus.inject(Fault.CORRUPT_BYTE, board=0, count=1)
    locks.read([C1])
    health = locks.health()
    assert set(health) == {"main"}
    assert health["main"].checksum_errors == 1
    assert health["main"].retries == 1
    assert health["main"].as_dict()["replies"] == 1


def test_cu12_boards_work_behind_the_same_interface(
    make_sim: Callable[..., Served],
) -> None:
    sim = make_sim("cu12", (0, 1))
    with SerialLocks(layout("cu12"), {"main": sim.url}) as serial_locks:
        assert serial_locks.open(C4) is DoorOutcome.OPENED
        assert sim.bus.unlock_count(1, 12) == 1
        readings = serial_locks.read()
        assert readings[C4] == DoorReading(latched=False, occupied=None)
        assert readings[C1] == DoorReading(latched=True, occupied=None)


def test_a_sim_bus_without_a_port_is_a_layout_error() -> None:
    with pytest.raises(LayoutError, match=r"test\.toml:\d+: bus 'main' is the simulator"):
        SerialLocks(layout())


def test_unknown_compartments_are_a_caller_error(locks: SerialLocks) -> None:
    with pytest.raises(KeyError):
        locks.open(CompartmentId(99))


def test_an_unexpected_failure_is_an_unknown_outcome(
    sim: Served, locks: SerialLocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: BoardBase, lock: int) -> None:
        raise RuntimeError("driver bug")

    monkeypatch.setattr(type(locks.board("main", 0)), "_pulse", broken)
    assert locks.open(C1) is DoorOutcome.UNKNOWN
