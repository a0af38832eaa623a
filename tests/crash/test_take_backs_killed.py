"""Crash safety of a courier's take-back of expired parcels: one door, killed at every step;
it ends as a collection's door does (the IR strip tells whether the expired parcel is still
inside), and a board silent at restart leaves the compartment at fault with the parcel
still expired, for staff to check."""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass

import httpx

from locker.testkit.crashpoints import (
    AFTER_BOARD_ANSWER,
    AFTER_INTENT_COMMIT,
    AFTER_UNLOCK_FRAME,
    BEFORE_INTENT_COMMIT,
)
from sim.faults import Fault
from tests.crash import dbview
from tests.crash.killing import (
    OPENED,
    kill_at,
    pulsed_per_compartment,
    restarted,
    starts,
)
from tests.crash.scenarios import AFTER_HTTP_ANSWER, KILL_POINTS
from tests.crash.station_process import wait_for
from tests.crash.world import Waiting, World

# Short deadlines make parcels expire while the test waits (settings of the real station).
EXPIRING = {"LOCKER_PICKUP_DAYS": "0.00002", "LOCKER_EXPIRY_EVERY_S": "0.2"}  # 1.7 s


@dataclass(frozen=True)
class TakeBack:
    point: str
    visit: int = 1  # 2: the courier took another expired parcel back first, same process
    silent_board: bool = False  # the board does not answer when the station restarts

    @property
    def pulsed(self) -> bool:
        return self.point not in (BEFORE_INTENT_COMMIT, AFTER_INTENT_COMMIT)

    def outcome(self) -> str | None:
        if self.point == BEFORE_INTENT_COMMIT:
            return None
        if self.silent_board:
            return "unknown (reconciled)"
        if self.point == AFTER_INTENT_COMMIT:
            return "not_opened (reconciled)"
        if self.point in (AFTER_UNLOCK_FRAME, AFTER_BOARD_ANSWER):
            return "opened (reconciled)"
        return "opened"

    def __str__(self) -> str:
        words = f"{self.point}:{self.visit}"
        return words + (", board silent at restart" if self.silent_board else "")


TAKE_BACKS = [
    *(TakeBack(point) for point in KILL_POINTS),
    TakeBack(AFTER_UNLOCK_FRAME, visit=2),
    TakeBack(AFTER_INTENT_COMMIT, silent_board=True),
]


def expired_parcels(world: World, count: int) -> list[Waiting]:
    """Deposit ``count`` parcels and wait until the station's expiry job has expired them."""
    parcels = [world.deposit() for _ in range(count)]
    wait_for(
        f"parcels {[p.pid for p in parcels]} to expire",
        lambda: all(world.snapshot().parcel(p.pid)["state"] == "expired" for p in parcels),
    )
    for parcel in parcels:
        world.waiting.remove(parcel)  # no longer the recipient's to collect
    return parcels


def take_back(world: World, parcel: Waiting) -> httpx.Response:
    return world.courier(f"/parcels/{parcel.pid}/take-back")


def taken_away(world: World, parcel: Waiting) -> None:
    """The courier takes the parcel out of its open door and shuts it."""
    assert world.sim.is_open(parcel.cid)
    world.sim.take(parcel.cid)
    world.sim.close(parcel.cid)


def agree_with_expired(world: World) -> None:
    """Every door shut and latched; a parcel lies exactly where one waits (stored or
    expired); the invariants hold."""
    snap = world.snapshot()
    assert dbview.problems(snap, settled=True) == []
    held = {
        p["compartment_id"] for p in snap.parcels.values() if p["state"] in ("stored", "expired")
    }
    for cid in world.compartments():
        state = world.sim.state(cid)
        assert state.latched, f"compartment {cid} is not latched"
        assert state.item == (cid in held), f"compartment {cid}: item {state.item}"


def test_a_take_back_of_expired_parcels_killed_at_every_step_loses_nothing(
    world: World,
) -> None:
    world.station.extra_env.update(EXPIRING)
    kill_at(world, AFTER_HTTP_ANSWER, 1)  # restarted, unarmed, with the short deadlines
    started = time.monotonic()
    endings = []
    for case in TAKE_BACKS:
        parcels = expired_parcels(world, case.visit)
        first, target = parcels[:-1], parcels[-1]
        kill_at(world, case.point, case.visit)
        for parcel in first:  # taken back whole by the armed process
            done = take_back(world, parcel)
            assert done.status_code == 200, done.text
            taken_away(world, parcel)
        before = world.snapshot()
        pulses = world.pulses()
        try:
            answer: httpx.Response | None = take_back(world, target)
        except httpx.TransportError:
            answer = None
        if case.point == AFTER_HTTP_ANSWER:
            assert answer is not None, "the station died before answering"
            assert answer.status_code == 200, answer.text
            assert world.station.kill() == -signal.SIGKILL
        else:
            assert answer is None, f"{case}: the station answered {answer.text}"
            assert world.station.wait_killed() == -signal.SIGKILL

        expected = {**pulses, target.cid: pulses[target.cid] + case.pulsed}
        for cid, count in expected.items():
            world.settle_doors(cid, count)
        if case.silent_board:
            world.sim.inject(target.cid, Fault.NO_ANSWER)
        after = restarted(world, expected)

        outcome = case.outcome()
        new_ops = [op for op_id, op in after.door_ops.items() if op_id not in before.door_ops]
        assert all(after.door_ops[i] == op for i, op in before.door_ops.items())
        if outcome is None:
            assert new_ops == []
        else:
            assert [(op["compartment_id"], op["purpose"], op["outcome"]) for op in new_ops] == [
                (target.cid, "take_back", outcome)
            ]
        opened = outcome in OPENED
        state = after.parcel(target.pid)["state"]
        assert state == ("returned" if opened else "expired"), (case, state)
        changed = dbview.changed(before.parcels, after.parcels)
        assert set(changed) <= ({target.pid} if opened else set()), changed
        compartments = dbview.changed(before.compartments, after.compartments)
        if case.silent_board:
            assert compartments.pop(target.cid) <= {"condition", "note"}
            assert after.compartments[target.cid]["condition"] == "fault"
        assert compartments == {}, compartments
        spent = {before.parcel(target.pid)["code_id"]} if opened else set()
        assert set(dbview.changed(before.codes, after.codes)) <= spent
        for row in dbview.audit_appended(before, after):
            assert row["compartment_id"] in (None, target.cid), row
            assert row["parcel_id"] in (None, target.pid), row
        pulsed_per_compartment(world)

        # the courier finishes: takes the parcel from the open door, or asks again
        if case.silent_board:
            world.sim.repair(target.cid)
            cleared = world.staff(f"/compartments/{target.cid}/clear-fault", {"note": "checked"})
            assert cleared.status_code == 200, cleared.text
        if not opened:
            again = take_back(world, target)
            assert again.status_code == 200, again.text
            world.settle_doors(target.cid, expected[target.cid] + 1)
        taken_away(world, target)
        assert world.snapshot().parcel(target.pid)["state"] == "returned"
        refused = take_back(world, target)  # nothing left to take back: no second opening
        assert refused.status_code == 409, refused.text
        pulsed_per_compartment(world)
        agree_with_expired(world)
        endings.append(f"{case}: {outcome or 'no intent'}")
    print(
        f"\n{len(TAKE_BACKS)} kills of a take-back, {starts(world)}, "
        f"{time.monotonic() - started:.1f} s in all"
    )
    for ending in endings:
        print(f"  {ending}")
