"""The serial line under garbage: the real driver (LockBus, Cu16Board, SerialLocks) over
``socket://`` through a tap (tests/drivers/line_tap.py) to the simulator, with the tap
adding random bytes, well-formed frames for other boards and other commands, and replays
of earlier real answers in the direction towards the driver, before, around or after
the real answer.

Invariants, after every step of a hypothesis state machine:

- the boards received an unlock only for a lock that was asked to open, and at most
  ``MAX_PULSES`` per asking (the driver's own bytes: nothing is injected towards the
  boards, where garbage that happens to be a valid unlock would open a door on a real bus
  and no driver could prevent it);
- a result about a board equals the simulator's truth, or says "unknown" (an exception
  from a read, a board missing from a reading, ``NO_ANSWER``/``UNKNOWN`` for an opening);
- every injected byte is counted on the bus (``dropped_bytes``, ``unexpected_answers``),
  and none was acted on.

A replayed answer *of the asked board to the asked command* cannot be told apart from the
fresh one: the protocol's answers carry no sequence number or nonce. It is therefore left
out of the machine and pinned down by the last two tests: it may mislead the report, but
it never buys a pulse beyond ``MAX_PULSES`` or an unlock of another lock.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from drivers.base import MAX_PULSES
from drivers.bus import DEFAULT_RETRIES
from drivers.errors import BusError
from drivers.framing import StreamDecoder
from drivers.kerong_cu16 import (
    CMD_UNLOCK,
    REPLY_CODES,
    REPLY_RULE,
    RPL_BUS_STATUS,
    RPL_STATUS,
    Cu16Reply,
    Cu16Request,
)
from drivers.station_locks import SerialLocks
from locker.layout import parse_layout
from locker.locks import DoorOutcome
from locker.types import CompartmentId
from sim.bus import SimBus
from sim.faults import Fault
from sim.server import serve_tcp
from tests.drivers.line_tap import Injection, LineTap, tapped
from tests.drivers.support import MARGIN_S, PROCESSING_S, PULSE_MS

BOARDS = (0, 1, 2)
DOORS = {1: (0, 1), 2: (0, 2), 3: (0, 16), 4: (1, 1), 5: (1, 9), 6: (2, 5)}  # id: board, lock
LAYOUT = "\n".join(
    [
        '[station]\nname = "garbage"\n[[bus]]\nid = "main"\nport = "sim"\ntimeout_ms = 80\n',
        *(f"[[board]]\naddress = {b}\npulse_ms = {PULSE_MS}\n" for b in BOARDS),
        *(
            f'[[compartment]]\nid = {c}\nboard = {b}\nlock = {n}\nsize = "M"\nrow = {c}\n'
            for c, (b, n) in DOORS.items()
        ),
    ]
)
BAD_COUNTERS = ("dropped_bytes", "unexpected_answers")

Acceptable = Callable[[Cu16Reply], bool]  # would the driver take this frame as its answer?


def status_of(board: int) -> Acceptable:
    return lambda reply: reply.code == RPL_STATUS and reply.board == board


def bus_read_of(boards: tuple[int, ...]) -> Acceptable:
    return lambda reply: reply.code == RPL_BUS_STATUS and reply.board in boards


def frames_in(data: bytes) -> list[Cu16Reply]:
    return [Cu16Reply.from_bytes(raw) for raw in StreamDecoder(REPLY_RULE).feed(data)]


def foreign_frames() -> st.SearchStrategy[bytes]:
    """Well-formed answers of any board (0-9) with any answer code and any bits."""
    return st.builds(
        lambda board, code, data: Cu16Reply(board << 4, code, data).to_bytes(),
        st.integers(0, 9),
        st.sampled_from(sorted(REPLY_CODES)),
        st.binary(min_size=4, max_size=4),
    )


DELAYS = st.sampled_from([0.0, 0.004, 0.012])  # before, around, after the real answer


class GarbageOnTheLine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.stack = ExitStack()
        self.sim = SimBus(
            protocol="cu16", addresses=list(BOARDS), pulse_ms=PULSE_MS, processing_s=PROCESSING_S
        )
        sim_url = self.stack.enter_context(serve_tcp(self.sim))
        self.tap: LineTap = self.stack.enter_context(tapped(sim_url))
        self.locks = self.stack.enter_context(
            SerialLocks(parse_layout(LAYOUT), {"main": self.tap.url})
        )
        for board in BOARDS:
            self.locks.board("main", board).release_margin_s = MARGIN_S
        self.asked: Counter[tuple[int, int]] = Counter()
        self.unknown = 0

    def teardown(self) -> None:
        self.stack.close()

    # -- what the line adds -------------------------------------------------------

    def _injections(self, data: st.DataObject, acceptable: Acceptable, writes: int) -> None:
        """Plan garbage for the coming ``writes`` of the driver, none the driver may take."""
        plan = []
        for _ in range(writes):
            items = []
            for kind in data.draw(
                st.lists(st.sampled_from(["random", "foreign", "replay"]), max_size=3)
            ):
                # Every draw is made whatever the line did, so that hypothesis can replay
                # it: the replay pool (the real answers so far) depends on timing.
                if kind == "random":
                    raw = data.draw(st.binary(min_size=1, max_size=24))
                elif kind == "foreign":
                    raw = data.draw(foreign_frames())
                else:
                    pick = data.draw(st.integers(0, 2**16))
                    pool = self.tap.answers
                    raw = pool[pick % len(pool)] if pool else b""
                delay = data.draw(DELAYS)
                if not raw or any(acceptable(reply) for reply in frames_in(raw)):
                    continue  # indistinguishable from the answer (see the last tests)
                items.append(Injection(kind, raw, delay))
            plan.append(items)
        self.tap.plan(plan)

    def _truth(self, board: int, lock: int) -> tuple[bool, bool]:
        state = self.sim.lock_state(board, lock)
        return state.latched, state.item

    # -- what the station asks ----------------------------------------------------

    @rule(door=st.sampled_from(sorted(DOORS)), data=st.data())
    def open_door(self, door: int, data: st.DataObject) -> None:
        board, lock = DOORS[door]
        self._injections(data, status_of(board), writes=2 * MAX_PULSES)
        before = len(self.sim.frames_received)
        self.asked[(board, lock)] += 1
        outcome = self.locks.open(CompartmentId(door))
        unlocks = [
            Cu16Request.from_bytes(raw)
            for _, raw in self.sim.frames_received[before:]
            if raw[2] == CMD_UNLOCK
        ]
        assert {(u.board, u.lock) for u in unlocks} <= {(board, lock)}
        assert 1 <= len(unlocks) <= MAX_PULSES
        latched, _ = self._truth(board, lock)
        if outcome is DoorOutcome.OPENED:
            assert not latched
        elif outcome is DoorOutcome.REFUSED:
            assert latched
        else:
            self.unknown += 1

    @rule(board=st.sampled_from(BOARDS), data=st.data())
    def read_board(self, board: int, data: st.DataObject) -> None:
        self._injections(data, status_of(board), writes=1 + DEFAULT_RETRIES)
        try:
            status = self.locks.board("main", board).status()
        except BusError:
            self.unknown += 1
            return
        for lock in range(1, 17):
            state = status.lock(lock)
            assert (state.hook_engaged, state.item_present) == self._truth(board, lock)

    @rule(data=st.data())
    def read_everything(self, data: st.DataObject) -> None:
        self._injections(data, bus_read_of(BOARDS), writes=1 + DEFAULT_RETRIES)
        readings = self.locks.read()
        self.unknown += len(DOORS) - len(readings)
        for door, reading in readings.items():
            assert (reading.latched, reading.occupied) == self._truth(*DOORS[door])

    # -- what people and the hardware do (nothing on the line) --------------------

    @rule(door=st.sampled_from(sorted(DOORS)))
    def close_door(self, door: int) -> None:
        self.sim.close_door(*DOORS[door])

    @rule(door=st.sampled_from(sorted(DOORS)), inside=st.booleans())
    def parcel(self, door: int, inside: bool) -> None:
        (self.sim.put_item if inside else self.sim.take_item)(*DOORS[door])

    @rule(door=st.sampled_from(sorted(DOORS)), times=st.integers(1, 2))
    def jam(self, door: int, times: int) -> None:
        board, lock = DOORS[door]
        self.sim.inject(Fault.STUCK_LATCH, board=board, lock=lock, count=times)

    # -- after every step ---------------------------------------------------------

    @invariant()
    def only_asked_locks_were_pulsed_and_within_the_bound(self) -> None:
        sent = Counter(
            (r.board, r.lock)
            for r in (Cu16Request.from_bytes(raw) for _, raw in self.sim.frames_received)
            if r.command == CMD_UNLOCK
        )
        for key, pulses in sent.items():
            assert pulses <= MAX_PULSES * self.asked[key], (key, pulses, self.asked[key])

    @precondition(lambda self: self.tap.writes > 0)
    @invariant()
    def every_injected_byte_is_counted(self) -> None:
        """Once nothing is on its way, a request drains what is left; then every byte the
        tap added shows on the counters (a frame as one unexpected answer, 9 bytes)."""
        self.tap.clear_plan()
        while not self.tap.idle():
            time.sleep(0.002)
        deadline = time.monotonic() + 5  # the last of it may still be on its way (loopback)
        while True:
            try:
                self.locks.board("main", 0).status()  # drains anything stale, counted
            except BusError:
                self.unknown += 1
            counters = self.locks.health()["main"]
            counted = counters.dropped_bytes + REPLY_RULE.max_length * counters.unexpected_answers
            if self.tap.injected_bytes <= counted or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert self.tap.injected_bytes <= counted


def _run_machine(**overrides: Any) -> GarbageOnTheLine:
    machine = GarbageOnTheLine
    machine.TestCase.settings = settings(
        settings.default,
        max_examples=max(10, settings.default.max_examples // 2),
        stateful_step_count=min(settings.default.stateful_step_count, 15),
        **overrides,
    )
    return machine


TestGarbageOnTheLine = _run_machine().TestCase


# -- the indistinguishable: a replay of the asked board's own answer ----------------


@pytest.fixture
def station() -> Any:
    with ExitStack() as stack:
        sim = SimBus(
            protocol="cu16", addresses=list(BOARDS), pulse_ms=PULSE_MS, processing_s=PROCESSING_S
        )
        tap = stack.enter_context(tapped(stack.enter_context(serve_tcp(sim))))
        locks = stack.enter_context(SerialLocks(parse_layout(LAYOUT), {"main": tap.url}))
        for board in BOARDS:
            locks.board("main", board).release_margin_s = MARGIN_S
        yield sim, tap, locks


def test_a_clean_line_through_the_tap_answers_every_request(station: Any) -> None:
    """The control for the machine above: with nothing injected, the tap passes every
    frame, every opening is OPENED, every read complete and true, nothing is counted."""
    sim, tap, locks = station
    for door, (board, lock) in sorted(DOORS.items()):
        assert locks.open(CompartmentId(door)) is DoorOutcome.OPENED
        assert not sim.lock_state(board, lock).latched
    readings = locks.read()
    assert sorted(readings) == sorted(DOORS)
    for door, reading in readings.items():
        truth = sim.lock_state(*DOORS[door])
        assert (reading.latched, reading.occupied) == (truth.latched, truth.item)
    counters = locks.health()["main"]
    assert (counters.dropped_bytes, counters.unexpected_answers, counters.timeouts) == (0, 0, 0)
    assert tap.writes > 0
    assert tap.injected_bytes == 0


def _answer_passing(tap: LineTap, locks: SerialLocks, board: int) -> bytes:
    """The real answer frame that passes the tap when ``board`` is read. The tap notes
    each answer just after passing it on, so the driver may have it (and earlier ones)
    first: wait until the tap has noted as many answers as the driver took."""
    locks.board("main", board).status()
    replies = locks.health()["main"].replies
    deadline = time.monotonic() + 5
    while len(tap.answers) < replies and time.monotonic() < deadline:
        time.sleep(0.001)
    assert len(tap.answers) == replies
    return tap.answers[-1]


def _unlocks(sim: SimBus) -> list[tuple[int, int]]:
    requests = (Cu16Request.from_bytes(raw) for _, raw in sim.frames_received)
    return [(r.board, r.lock) for r in requests if r.command == CMD_UNLOCK]


def test_a_replayed_released_answer_is_taken_for_a_door_that_stayed_shut(station: Any) -> None:
    """The limit of the protocol: board 0's answer from when door 1 was open, replayed just
    before the read-back of a new opening whose latch is stuck, is taken as the read-back.
    The report is wrong (OPENED); the pulses are not: one, to the asked lock only."""
    sim, tap, locks = station
    assert locks.open(CompartmentId(1)) is DoorOutcome.OPENED
    old = _answer_passing(tap, locks, 0)  # lock 1 released
    assert not Cu16Reply.from_bytes(old).hooks & 1
    sim.close_door(0, 1)
    sim.inject(Fault.STUCK_LATCH, board=0, lock=1, count=2)
    tap.plan([[], [Injection("replay", old)]])  # nothing after the unlock; before the read
    assert locks.open(CompartmentId(1)) is DoorOutcome.OPENED  # wrong, and undetectable
    assert sim.lock_state(0, 1).latched
    assert _unlocks(sim) == [(0, 1), (0, 1)]  # one pulse per asking: no retry on a lie


def test_replayed_engaged_answers_cannot_buy_a_third_pulse(station: Any) -> None:
    """Board 0's answer with every hook engaged, replayed before each read-back of an
    opening that did release: the driver pulses once more after the first (a fresh read,
    as far as it can tell, said engaged) and then reports REFUSED; never a third pulse."""
    sim, tap, locks = station
    engaged = _answer_passing(tap, locks, 0)
    assert Cu16Reply.from_bytes(engaged).hooks & 1
    tap.plan([[], [Injection("replay", engaged)], [], [Injection("replay", engaged)]])
    assert locks.open(CompartmentId(1)) is DoorOutcome.REFUSED  # wrong, and undetectable
    assert not sim.lock_state(0, 1).latched
    assert _unlocks(sim) == [(0, 1)] * MAX_PULSES
    counters = locks.health()["main"]
    assert counters.commands == MAX_PULSES
