"""Crash safety (issue 7): ``locker serve`` as its own process, the lock board simulated in
this one on TCP, killed with SIGKILL at every step of a door operation, restarted, and held
to the invariants (tests/crash/scenarios.py says what each kill point may leave).

``LOCKER_CRASH_RUNS=N`` adds N random kills (random operation, kill point, and up to two
whole operations the same process completes first, so the kill is at the point's n-th
visit); ``LOCKER_CRASH_SEED`` replays a run. The summary is printed (``pytest -s``).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from tests.crash.scenarios import (
    AFTER_HTTP_ANSWER,
    KILL_POINTS,
    Ending,
    Kind,
    Scenario,
    run_scenario,
)
from tests.crash.world import World, crash_world

EVERY_POINT = [
    Scenario(kind, point) for kind in (Kind.DEPOSIT, Kind.COLLECT) for point in KILL_POINTS
]
# A staff opening is settled without the IR strip: the two points reconcile decides.
STAFF = [Scenario(Kind.STAFF_OPEN, p) for p in ("after_intent_commit", "after_unlock_frame")]
FLAGGED = [Scenario(Kind.COLLECT, "after_intent_commit", silent_board=True)]
RUNS_IN_CI = "2"  # random kills when LOCKER_CRASH_RUNS is not set


def random_scenarios(rng: random.Random, runs: int) -> list[Scenario]:
    found = []
    for _ in range(runs):
        kind = rng.choice(list(Kind))
        point = rng.choice(KILL_POINTS)
        prefix = tuple(rng.choice((Kind.DEPOSIT, Kind.COLLECT)) for _ in range(rng.randint(1, 2)))
        silent = kind is not Kind.DEPOSIT and point == "after_intent_commit" and rng.random() < 0.5
        found.append(Scenario(kind, point, prefix, silent))
    return found


def finish(world: World, endings: list[Ending], started: float, what: str) -> None:
    """The station still works after all that; every parcel is accounted for."""
    last = world.deposit()
    world.collect(last)
    snap = world.agree()
    states = sorted({p["state"] for p in snap.parcels.values()})
    assert set(states) <= {"stored", "collected"}, states  # nothing left half-way
    world.station.stop()
    kills = len(endings)
    points = len({e.scenario.point for e in endings})
    starts = world.station.start_s
    print(
        f"\n{what}: {kills} kills at {points} kill points (+{kills} kills at rest to switch), "
        f"{len(starts)} starts of locker serve (mean {sum(starts) / len(starts):.2f} s until it "
        f"answers), {len(snap.parcels)} parcels ({len(world.waiting)} still stored), "
        f"{time.monotonic() - started:.1f} s in all"
    )
    for ending in endings:
        print(f"  {ending}")


def test_killed_at_every_step_of_a_door_the_station_loses_nothing(tmp_path: Path) -> None:
    """Every kill point under a deposit and a collection, a staff opening where reconcile
    decides, a board silent at restart (flagged for staff), then ``LOCKER_CRASH_RUNS``
    random kills (2 unless set), each after one or two whole operations of the same process."""
    runs = int(os.environ.get("LOCKER_CRASH_RUNS") or RUNS_IN_CI)
    seed = int(os.environ.get("LOCKER_CRASH_SEED") or random.randrange(2**32))
    scenarios = [*EVERY_POINT, *STAFF, *FLAGGED]
    started = time.monotonic()
    with crash_world(tmp_path) as world:
        endings = [run_scenario(world, s) for s in scenarios]
        endings += [run_scenario(world, s) for s in random_scenarios(random.Random(seed), runs)]
        finish(
            world,
            endings,
            started,
            f"{len(scenarios)} fixed and {runs} random kills (LOCKER_CRASH_SEED={seed})",
        )
    harness = [e for e in endings if e.scenario.point == AFTER_HTTP_ANSWER]
    assert {e.door_op for e in harness} == {"opened"}
