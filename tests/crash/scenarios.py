"""One crash: a station armed to die at a step of a door operation, killed there, restarted,
and checked against what that step may leave behind.

What each kill point may leave (the door's latch releases at the end of its pulse):

==================== ============ ===================================================
killed               door pulsed  after restart
==================== ============ ===================================================
before_intent_commit no           no intent (its transaction never committed); the
                                  parcel as it was, the operation can be asked again
after_intent_commit  no           intent settled ``not_opened (reconciled)``: latched,
                                  and the IR strip shows nothing changed; the parcel as
                                  it was. A board that does not answer at start-up,
                                  or a board without IR strips (8A/80, Modbus relays)
                                  under a deposit or collection: ``unknown
                                  (reconciled)``, compartment at fault (a deposit's
                                  parcel held, its door unconfirmed) for staff
after_unlock_frame   once         ``opened (reconciled)``: the latch is released; a
after_board_answer   once         deposit's door counts as opened, a collection is done
after_outcome_commit once         ``opened``: nothing left to settle
after_http_answer    once         ``opened``: as the client was told
==================== ============ ===================================================
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from enum import StrEnum

import httpx

from locker.testkit import crashpoints
from locker.testkit.crashpoints import (
    AFTER_BOARD_ANSWER,
    AFTER_INTENT_COMMIT,
    AFTER_UNLOCK_FRAME,
    BEFORE_INTENT_COMMIT,
)
from sim.faults import Fault
from tests.crash import dbview
from tests.crash.world import Waiting, World


class Kind(StrEnum):
    DEPOSIT = "deposit"
    COLLECT = "collect"
    STAFF_OPEN = "staff_open"


PURPOSE = {Kind.DEPOSIT: "deposit", Kind.COLLECT: "collect", Kind.STAFF_OPEN: "staff"}
AFTER_HTTP_ANSWER = "after_http_answer"  # the harness kills once the client has its answer
KILL_POINTS = (*crashpoints.POINTS, AFTER_HTTP_ANSWER)
NOT_PULSED = (BEFORE_INTENT_COMMIT, AFTER_INTENT_COMMIT)
LEFT_OPEN = (AFTER_INTENT_COMMIT, AFTER_UNLOCK_FRAME, AFTER_BOARD_ANSWER)  # reconcile settles
OPENED = ("opened", "opened (reconciled)")


@dataclass(frozen=True)
class Scenario:
    kind: Kind
    point: str
    prefix: tuple[Kind, ...] = ()  # whole operations the armed process completes first
    silent_board: bool = False  # the board does not answer when the station restarts
    ir: bool = True  # the board has IR strips (only the CU16 of the families)

    def __post_init__(self) -> None:
        assert self.point in KILL_POINTS
        assert not self.silent_board or (
            self.point == AFTER_INTENT_COMMIT and self.kind is not Kind.DEPOSIT
        ), "a silent board is played where the door stayed shut and nothing waits on it"
        assert Kind.STAFF_OPEN not in self.prefix

    @property
    def crash_env(self) -> dict[str, str]:
        """Every door operation reaches each point once: the target is the n-th."""
        if self.point == AFTER_HTTP_ANSWER:
            return {}
        return {crashpoints.ENV: f"{self.point}:{len(self.prefix) + 1}"}

    @property
    def flagged(self) -> bool:
        """Restart cannot know what became of the door: the compartment goes to staff."""
        blind = not self.ir and self.kind is not Kind.STAFF_OPEN
        return self.point == AFTER_INTENT_COMMIT and (self.silent_board or blind)

    def expected_outcome(self) -> str | None:
        """The target's door intent after restart (None: there is none)."""
        if self.point == BEFORE_INTENT_COMMIT:
            return None
        if self.flagged:
            return "unknown (reconciled)"
        if self.point == AFTER_INTENT_COMMIT:
            return "not_opened (reconciled)"
        return "opened (reconciled)" if self.point in LEFT_OPEN else "opened"

    def __str__(self) -> str:
        words = f"{self.kind.value} killed {self.point}"
        if self.prefix:
            words += f" (visit {len(self.prefix) + 1}: after {' + '.join(self.prefix)})"
        return words + (", board silent at restart" if self.silent_board else "")


@dataclass(frozen=True)
class Ending:
    """What a kill point ended as after the restart."""

    scenario: Scenario
    door_op: str  # the intent's outcome, or "no intent"
    parcel: str  # the parcel's state after restart ("-" for a staff opening)
    compartment: str  # its condition after restart
    pulses: int

    def __str__(self) -> str:
        return (
            f"{self.scenario}: pulses {self.pulses}, door op {self.door_op}, "
            f"parcel {self.parcel}, compartment {self.compartment}"
        )


@dataclass
class _Target:
    cid: int
    pid: int | None = None
    parcel: Waiting | None = None


def run_scenario(world: World, scenario: Scenario) -> Ending:
    """Arm, operate, kill, restart, check, and carry the operation through."""
    target = _prepare(world, scenario)
    at_rest = world.station.kill()  # a kill while nothing is being opened, to switch
    assert at_rest == -signal.SIGKILL
    world.station.start(scenario.crash_env)
    _run_prefix(world, scenario, target)
    if scenario.kind is Kind.STAFF_OPEN:
        target.cid = world.snapshot().free()[0]
    before = world.snapshot()
    assert dbview.problems(before, settled=True) == [], "after the kill at rest"
    pulses = world.pulses()

    answer = _ask(world, scenario, target)
    if scenario.point == AFTER_HTTP_ANSWER:
        assert answer is not None, "the station died before answering"
        assert answer.status_code == 200, answer.text
        status = world.station.kill()
    else:
        assert answer is None, f"the station answered: {answer.status_code} {answer.text}"
        status = world.station.wait_killed()
    assert status == -signal.SIGKILL, f"the station ended with {status}, not by SIGKILL"

    pulsed = 0 if scenario.point in NOT_PULSED else 1
    world.settle_doors(target.cid, pulses[target.cid] + pulsed)
    assert world.pulses() == {**pulses, target.cid: pulses[target.cid] + pulsed}
    if scenario.silent_board:
        world.sim.inject(target.cid, Fault.NO_ANSWER)
    world.station.start()
    after = world.snapshot()
    assert dbview.problems(after, settled=True) == []
    assert world.pulses() == {**pulses, target.cid: pulses[target.cid] + pulsed}, (
        "the restart pulsed a door"
    )
    outcome = _check_changes(world, scenario, target, before, after)
    ending = Ending(
        scenario,
        door_op=outcome or "no intent",
        parcel=_parcel_words(after, target),
        compartment=after.compartments[target.cid]["condition"],
        pulses=pulsed,
    )
    _carry_on(world, scenario, target, opened=outcome in OPENED)
    world.agree()
    return ending


def _prepare(world: World, scenario: Scenario) -> _Target:
    """In the running station (not armed): what the operation and its prefix need."""
    collects = scenario.prefix.count(Kind.COLLECT) + (scenario.kind is Kind.COLLECT)
    while len(world.waiting) < collects:
        world.deposit()
    if scenario.kind is Kind.DEPOSIT:
        pid, cid = world.reserve()
        return _Target(cid, pid)
    if scenario.kind is Kind.COLLECT:
        parcel = world.waiting[-1]
        return _Target(parcel.cid, parcel.pid, parcel)
    return _Target(cid=0)  # a staff opening picks a free compartment after the prefix


def _run_prefix(world: World, scenario: Scenario, target: _Target) -> None:
    for kind in scenario.prefix:
        if kind is Kind.DEPOSIT:
            world.deposit()
        else:
            world.collect(next(w for w in world.waiting if w is not target.parcel))


def _ask(world: World, scenario: Scenario, target: _Target) -> httpx.Response | None:
    try:
        if scenario.kind is Kind.DEPOSIT:
            return world.courier(f"/parcels/{target.pid}/deposit")
        if scenario.kind is Kind.COLLECT:
            assert target.parcel is not None
            return world.customer(target.parcel.pin)
        return world.staff(f"/compartments/{target.cid}/open", {"reason": "crash test"})
    except httpx.TransportError:
        return None  # the station died under the request


def _check_changes(
    world: World,
    scenario: Scenario,
    target: _Target,
    before: dbview.Snapshot,
    after: dbview.Snapshot,
) -> str | None:
    """Only the operated parcel, compartment and door intent changed, and only as the kill
    point allows; returns the intent's outcome."""
    cid, pid = target.cid, target.pid
    for op_id, op in before.door_ops.items():
        assert after.door_ops[op_id] == op, f"door op {op_id} changed"
    new_ops = [op for op_id, op in after.door_ops.items() if op_id not in before.door_ops]
    expected = scenario.expected_outcome()
    if expected is None:
        assert new_ops == []
    else:
        assert len(new_ops) == 1, new_ops
        op = new_ops[0]
        assert (op["compartment_id"], op["purpose"]) == (cid, PURPOSE[scenario.kind])
        assert op["outcome"] == expected, (op["outcome"], expected)
    reconciled = [(op["id"], cid, expected.split()[0]) for op in new_ops if expected]
    assert world.station.settled() == (reconciled if scenario.point in LEFT_OPEN else [])

    opened = expected in OPENED
    parcels = dbview.changed(before.parcels, after.parcels)
    if scenario.kind is Kind.DEPOSIT and opened:
        assert pid is not None
        assert "door_opened_at" in parcels.get(pid, set())
        assert parcels.pop(pid) <= {"door_opened_at", "courier"}
        assert after.parcel(pid)["state"] == "reserved"
        assert not after.parcel(pid)["door_unconfirmed"]
    elif scenario.kind is Kind.COLLECT and opened:
        assert pid is not None
        assert parcels.pop(pid) <= {"state", "finished_at", "flagged"}
        assert after.parcel(pid)["state"] == "collected"
    elif scenario.kind is Kind.DEPOSIT and scenario.flagged:
        assert pid is not None  # it may hold the parcel: kept held, the door unconfirmed
        assert parcels.pop(pid) <= {"door_opened_at", "door_unconfirmed"}
        assert after.parcel(pid)["state"] == "reserved"
        assert after.parcel(pid)["door_unconfirmed"]
    assert parcels == {}, f"parcels changed that should not have: {parcels}"

    codes = dbview.changed(before.codes, after.codes)
    if scenario.kind is Kind.COLLECT and opened:
        assert pid is not None
        code = before.parcel(pid)["code_id"]
        assert codes.pop(code) == {"used_at"}
    assert codes == {}, f"codes changed: {codes}"

    compartments = dbview.changed(before.compartments, after.compartments)
    if scenario.flagged:
        assert compartments.pop(cid) <= {"condition", "note"}
        assert after.compartments[cid]["condition"] == "fault"
    assert compartments == {}, f"compartments changed: {compartments}"

    for row in dbview.audit_appended(before, after):
        assert row["compartment_id"] in (None, cid), row
        assert row["parcel_id"] in (None, pid), row
    return expected


def _parcel_words(after: dbview.Snapshot, target: _Target) -> str:
    if target.pid is None:
        return "-"
    parcel = after.parcel(target.pid)
    door = ", door opened" if parcel["state"] == "reserved" and parcel["door_opened_at"] else ""
    return f"{parcel['state']}{door}"


def _carry_on(world: World, scenario: Scenario, target: _Target, *, opened: bool) -> None:
    """The people finish what they came for; a fault is cleared by staff first."""
    cid = target.cid
    if scenario.flagged:
        world.sim.repair(cid)
        cleared = world.staff(f"/compartments/{cid}/clear-fault", {"note": "checked"})
        assert cleared.status_code == 200, cleared.text
    if scenario.kind is Kind.DEPOSIT:
        assert target.pid is not None
        if opened:
            assert world.sim.is_open(cid)
        else:
            world.open_for_deposit(target.pid, cid)  # the courier asks again: same door
        world.fill_and_confirm(target.pid, cid)
    elif scenario.kind is Kind.COLLECT:
        assert target.parcel is not None
        if opened:
            world.take_out(target.parcel)
        else:
            world.collect(target.parcel)  # the code still works
    elif opened:
        assert world.sim.is_open(cid)
        world.sim.close(cid)
    else:
        world.staff_open(cid)
