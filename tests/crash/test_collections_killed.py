"""Crash safety of a collection that opens several doors with one code (test_kill_points.py
covers one door), killed between (and at every step of) its doors; a courier's take-back
of expired parcels is in test_take_backs_killed.py.

``locker serve`` runs as its own process, killed by SIGKILL at a crash point (the n-th
visit: a collection of two doors reaches every point twice), restarted, and held
to the same invariants as the other crash tests, plus, for every compartment: the board
saw exactly as many pulses as the database has door intents that opened it, so no door
was ever opened for a parcel without a record (and the restart pulsed nothing). Then the
customer or the courier finishes, with the same code or the same request.

What a collection of several doors (in parcel order) leaves when killed at the n-th visit
of a point (the intents of all its doors are committed together, before any pulse):

======================== =========================================================
killed                   after restart
======================== =========================================================
before_intent_commit:n   no intent; nothing pulsed; the code opens them all
after_intent_commit:n    doors before the n-th ``opened`` (their parcels collected);
                         the n-th and later ``not_opened (reconciled)``: latched, IR
                         shows the parcel; the same code opens just those
after_unlock_frame:n     doors before ``opened``; the n-th ``opened (reconciled)``
after_board_answer:n     (collected); later ones ``not_opened (reconciled)``
after_outcome_commit:n   doors up to the n-th ``opened``; later ones as above
after the HTTP answer    all ``opened``; the code is spent
======================== =========================================================
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass

import httpx

from locker.testkit import crashpoints
from locker.testkit.crashpoints import (
    AFTER_BOARD_ANSWER,
    AFTER_INTENT_COMMIT,
    AFTER_OUTCOME_COMMIT,
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
from tests.crash.scenarios import AFTER_HTTP_ANSWER
from tests.crash.world import Waiting, World

DOORS = 2  # parcels of one recipient, one code for both (each kill costs two starts)


# -- a collection of several doors ----------------------------------------------------


@dataclass(frozen=True)
class Multi:
    point: str
    visit: int  # which door's visit of the point (1..DOORS)
    taken_while_down: bool = False  # the customer empties the open doors and shuts them
    #                                 while the station is down (the IR strip tells)
    silent_board: bool = False  # the board does not answer when the station restarts

    def pulsed(self, door: int) -> bool:
        """Was door ``door`` (1-based, in parcel order) pulsed before the kill?"""
        if self.point == AFTER_HTTP_ANSWER:
            return True
        if self.point == BEFORE_INTENT_COMMIT:
            return False
        if self.point == AFTER_INTENT_COMMIT:
            return door < self.visit
        return door <= self.visit

    def outcome(self, door: int) -> str | None:
        """The door's intent after restart; None: there is none."""
        if self.point == BEFORE_INTENT_COMMIT:
            return None
        reconciled = self.point in (AFTER_UNLOCK_FRAME, AFTER_BOARD_ANSWER) and door == self.visit
        committed = self.pulsed(door) and not reconciled
        if committed:
            return "opened"
        if self.silent_board:
            return "unknown (reconciled)"
        return "opened (reconciled)" if reconciled else "not_opened (reconciled)"

    def __str__(self) -> str:
        words = f"{self.point}:{self.visit}"
        if self.taken_while_down:
            words += ", parcels taken while the station was down"
        return words + (", board silent at restart" if self.silent_board else "")


# Every point of the second door's visit (the first door done: between the doors), and
# the first door's outcome committed with the second not begun; the other points of the
# first visit are what tests/crash/test_kill_points.py covers for a single door.
MULTI = [
    *(Multi(point, DOORS) for point in crashpoints.DOOR_POINTS),
    Multi(AFTER_OUTCOME_COMMIT, 1),
    Multi(AFTER_HTTP_ANSWER, 1),
    Multi(AFTER_UNLOCK_FRAME, 2, taken_while_down=True),
    Multi(AFTER_BOARD_ANSWER, 1, taken_while_down=True),
    Multi(AFTER_OUTCOME_COMMIT, 1, silent_board=True),
]


def store_for_one_recipient(world: World, email: str, count: int) -> tuple[list[Waiting], str]:
    """``count`` parcels of one recipient (same carrier, same e-mail): the code issued
    with the last one opens them all. Returns the parcels and that code."""
    stored = []
    for n in range(count):
        answer = world.courier(
            "/parcels",
            {
                "tracking_number": f"MULTI-{email.split('@')[0]}-{n}",
                "recipient_name": "Ada Lovelace",
                "recipient_email": email,
                "size": "M",
                "reserve": True,
            },
        )
        assert answer.status_code == 201, answer.text
        pid, cid = int(answer.json()["id"]), int(answer.json()["compartment_id"])
        world.open_for_deposit(pid, cid)
        stored.append(world.fill_and_confirm(pid, cid))
    return stored, stored[-1].pin


def collect_rest(world: World, pin: str, left: list[Waiting]) -> None:
    """The customer enters the same code again: exactly the doors still holding a parcel
    open, once each; the parcels are taken out; then the code is spent."""
    if left:
        pulses = world.pulses()
        answer = world.customer(pin)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["all_opened"] is True
        assert sorted(d["compartment_id"] for d in body["doors"]) == sorted(p.cid for p in left)
        for parcel in left:
            world.settle_doors(parcel.cid, pulses[parcel.cid] + 1)
            world.take_out(parcel)
    spent = world.customer(pin)
    assert spent.status_code == 404, spent.text
    assert spent.json()["code"] == "code_invalid"


def run_multi(world: World, case: Multi, n: int) -> str:
    """One kill of a collection, the restart, the checks, and the customer finishing."""
    parcels, pin = store_for_one_recipient(world, f"multi{n}@example.org", DOORS)
    assert len({p.cid for p in parcels}) == DOORS
    kill_at(world, case.point, case.visit)
    before = world.snapshot()
    pulses = world.pulses()
    try:
        answer: httpx.Response | None = world.customer(pin)
    except httpx.TransportError:
        answer = None  # the station died under the request
    if case.point == AFTER_HTTP_ANSWER:
        assert answer is not None, "the station died before answering"
        assert answer.status_code == 200, answer.text
        assert world.station.kill() == -signal.SIGKILL
    else:
        assert answer is None, f"{case}: the station answered {answer.text}"
        assert world.station.wait_killed() == -signal.SIGKILL
        assert world.station.crash_points() == [case.point]

    expected = dict(pulses)
    for door, parcel in enumerate(parcels, start=1):
        expected[parcel.cid] += case.pulsed(door)

    def meanwhile() -> None:
        if case.taken_while_down:
            for door, parcel in enumerate(parcels, start=1):
                if case.pulsed(door):
                    world.take_out(parcel)
        if case.silent_board:
            world.sim.inject(parcels[0].cid, Fault.NO_ANSWER)  # the one board

    after = restarted(world, expected, meanwhile)

    # only these parcels, their doors' intents and the code changed, as the point allows
    new_ops = [op for op_id, op in after.door_ops.items() if op_id not in before.door_ops]
    assert all(after.door_ops[i] == op for i, op in before.door_ops.items())
    outcomes = [case.outcome(door) for door in range(1, DOORS + 1)]
    if outcomes[0] is None:
        assert new_ops == []
    else:
        assert [(op["compartment_id"], op["purpose"], op["outcome"]) for op in new_ops] == [
            (p.cid, "collect", outcome) for p, outcome in zip(parcels, outcomes, strict=True)
        ], case
    reconciled = [
        (op["id"], op["compartment_id"], op["outcome"].split()[0])
        for op in new_ops
        if op["outcome"].endswith("(reconciled)")
    ]
    assert world.station.settled() == reconciled
    collected = [p for p, o in zip(parcels, outcomes, strict=True) if o in OPENED]
    left = [p for p in parcels if p not in collected]
    for parcel in parcels:
        state = after.parcel(parcel.pid)["state"]
        assert state == ("collected" if parcel in collected else "stored"), (case, parcel)
    changed = dbview.changed(before.parcels, after.parcels)
    assert set(changed) <= {p.pid for p in collected}, changed
    compartments = dbview.changed(before.compartments, after.compartments)
    unknown = [p.cid for p, o in zip(parcels, outcomes, strict=True) if o and "unknown" in o]
    for cid in unknown:  # flagged for staff: the truth could not be read
        assert compartments.pop(cid) <= {"condition", "note"}
        assert after.compartments[cid]["condition"] == "fault"
    assert compartments == {}, compartments
    for row in dbview.audit_appended(before, after):
        assert row["compartment_id"] in (None, *(p.cid for p in parcels)), row
        assert row["parcel_id"] in (None, *(p.pid for p in parcels)), row
    pulsed_per_compartment(world)

    # the customer takes what the open doors hold, then the code opens the rest
    for parcel in collected:
        if not case.taken_while_down:
            assert world.sim.is_open(parcel.cid), (case, parcel)
            world.take_out(parcel)
    if case.silent_board:
        world.sim.repair(parcels[0].cid)
        for cid in unknown:
            cleared = world.staff(f"/compartments/{cid}/clear-fault", {"note": "checked"})
            assert cleared.status_code == 200, cleared.text
    collect_rest(world, pin, left)
    pulsed_per_compartment(world)
    world.agree()
    return f"{case}: {', '.join(o or 'no intent' for o in outcomes)}"


def test_a_collection_of_several_doors_killed_between_its_doors_loses_nothing(
    world: World,
) -> None:
    """Every crash point at each door's visit, after the answer, parcels taken while the
    station is down, and a board silent at restart."""
    started = time.monotonic()
    endings = []
    for n, case in enumerate(MULTI):
        endings.append(run_multi(world, case, n))
    print(
        f"\n{len(MULTI)} kills of a {DOORS}-door collection, {starts(world)}, "
        f"{time.monotonic() - started:.1f} s in all"
    )
    for ending in endings:
        print(f"  {ending}")


# -- taking back expired parcels ------------------------------------------------------
