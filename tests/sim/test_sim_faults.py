"""Fault injection, in-process: scope, duration, effects on the answer bytes, thread safety."""

from __future__ import annotations

import threading

import pytest

from sim import codec, codec_cu12
from sim.codec import Command, Reply
from sim.codec_cu12 import Frame
from sim.faults import Fault, FaultSet
from sim.server import SimBus
from tests.sim.sim_support import FakeClock


def make_bus(
    protocol: str = "cu16", addresses: tuple[int, ...] = (0, 1)
) -> tuple[SimBus, FakeClock]:
    clock = FakeClock()
    return SimBus(protocol, addresses=addresses, pulse_ms=10, clock=clock), clock


def test_count_wears_off_and_none_lasts_until_cleared() -> None:
    faults = FaultSet()
    faults.inject(Fault.NO_ANSWER, board=0, count=2)
    faults.inject(Fault.GONE, board=1)
    assert [faults.take(Fault.NO_ANSWER, 0) is not None for _ in range(3)] == [True, True, False]
    assert all(faults.take(Fault.GONE, 1) is not None for _ in range(10))
    faults.clear(board=1)
    assert faults.take(Fault.GONE, 1) is None
    assert faults.active() == []


def test_scope_by_board_and_lock() -> None:
    faults = FaultSet()
    faults.inject(Fault.STUCK_LATCH, board=0, lock=3)
    faults.inject(Fault.NO_ANSWER)  # every board
    assert faults.latch_stuck(0, 3)
    assert not faults.latch_stuck(0, 4)
    assert not faults.latch_stuck(1, 3)
    assert faults.take(Fault.NO_ANSWER, 7) is not None
    assert faults.take(Fault.NO_ANSWER, 7, lock=5) is not None
    faults.inject(Fault.CORRUPT_BYTE, board=0, lock=2)
    assert faults.take(Fault.CORRUPT_BYTE, 0, lock=None) is None  # a lock-less frame
    faults.clear(lock=3)
    assert [i.fault for i in faults.active()] == [Fault.NO_ANSWER, Fault.CORRUPT_BYTE]
    faults.clear()
    assert faults.active() == []


def test_invalid_injections_are_refused() -> None:
    faults = FaultSet()
    with pytest.raises(ValueError, match="count"):
        faults.inject(Fault.NO_ANSWER, count=0)
    with pytest.raises(ValueError, match="negative"):
        faults.inject(Fault.LATE_ANSWER, delay_s=-1)
    bus, _ = make_bus()
    with pytest.raises(ValueError, match="no board"):
        bus.inject(Fault.GONE, board=5)
    with pytest.raises(ValueError, match="lock"):
        bus.inject(Fault.STUCK_LATCH, board=0, lock=17)


def test_count_is_consumed_exactly_once_per_use_across_threads() -> None:
    faults = FaultSet()
    faults.inject(Fault.NO_ANSWER, board=0, count=1000)
    hits = [0] * 8

    def worker(slot: int) -> None:
        for _ in range(200):
            if faults.take(Fault.NO_ANSWER, 0) is not None:
                hits[slot] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(hits) == 1000
    assert faults.active() == []


def test_answer_faults_shape_the_bytes() -> None:
    bus, clock = make_bus()
    good = bus.respond(Command.status(0), clock())[0].data
    bus.inject(Fault.CORRUPT_BYTE, board=0, count=1)
    bad = bus.respond(Command.status(0), clock())[0].data
    assert [i for i in range(9) if bad[i] != good[i]] == [3]  # D1 inverted by default
    assert bad[8] != codec.checksum(bad[:8])
    bus.inject(Fault.CORRUPT_BYTE, board=0, count=1, n=8)
    assert bus.respond(Command.status(0), clock())[0].data[8] == good[8] ^ 0xFF
    bus.inject(Fault.TRUNCATED, board=0, count=1)
    assert bus.respond(Command.status(0), clock())[0].data == good[:4]
    bus.inject(Fault.TRUNCATED, board=0, count=1, n=7)
    assert bus.respond(Command.status(0), clock())[0].data == good[:7]
    bus.inject(Fault.LATE_ANSWER, board=0, count=1, delay_s=0.3)
    (late,) = bus.respond(Command.status(0), clock())
    assert (late.data, late.delay_s) == (good, 0.3)
    assert bus.respond(Command.status(0), clock())[0].delay_s == 0.0


def test_no_answer_still_acts_but_gone_does_nothing() -> None:
    bus, clock = make_bus("cu12")
    bus.inject(Fault.NO_ANSWER, board=0, lock=3)
    assert bus.respond(Frame.unlock(0, 3), clock()) == []
    assert bus.unlock_count(0, 3) == 1
    assert len(bus.respond(Frame.unlock(0, 4), clock())) == 1  # another lock: answered
    bus.inject(Fault.GONE, board=1)
    answers = bus.respond(Frame(codec_cu12.ALL_BOARDS, 0, codec_cu12.Cmd.STATUS), clock())
    assert [a.board for a in answers] == [0]
    assert bus.respond(Frame.unlock(1, 1), clock()) == []
    assert bus.unlock_count(1, 1) == 0


def test_stuck_latch_for_one_pulse_then_it_releases() -> None:
    bus, clock = make_bus()
    bus.inject(Fault.STUCK_LATCH, board=0, lock=2, count=1)
    bus.respond(Command.unlock(0, 2), clock())
    clock.advance(0.1)
    assert bus.lock_state(0, 2).latched
    bus.respond(Command.unlock(0, 2), clock())
    clock.advance(0.1)
    assert not bus.lock_state(0, 2).latched
    assert bus.unlock_count(0, 2) == 2


def test_lying_sensor_inverts_one_hook_bit_on_the_wire_only() -> None:
    bus, clock = make_bus()
    bus.inject(Fault.LYING_SENSOR, board=1, lock=9, count=1)
    replies = [Reply.from_bytes(a.data) for a in bus.respond(Command.bus_status(), clock())]
    assert [r.hooks for r in replies] == [0xFFFF, 0xFFFF & ~(1 << 8)]
    assert bus.lock_state(1, 9).latched
    (again,) = bus.respond(Command.status(1), clock())
    assert Reply.from_bytes(again.data).hooks == 0xFFFF  # count used up
    bus.inject(Fault.LYING_SENSOR, board=0)  # every lock of board 0
    (whole,) = bus.respond(Command.status(0), clock())
    assert Reply.from_bytes(whole.data).hooks == 0
