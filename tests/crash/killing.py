"""What the crash tests of collections and take-backs share: the world they kill (a fixture),
killing it at the n-th visit of a point, restarting it, and the check that every pulse the
board saw has a door intent that opened it."""

from __future__ import annotations

import signal
from collections.abc import Callable

from locker.testkit import crashpoints
from tests.crash import dbview
from tests.crash.scenarios import AFTER_HTTP_ANSWER
from tests.crash.world import World

OPENED = ("opened", "opened (reconciled)")


def pulsed_per_compartment(world: World) -> None:
    """Every pulse the board saw has its door intent that opened the door, and back."""
    snap = world.snapshot()
    for cid, pulses in world.pulses().items():
        ops = [
            op
            for op in snap.door_ops.values()
            if op["compartment_id"] == cid and op["outcome"] in OPENED
        ]
        assert pulses == len(ops), f"compartment {cid}: {pulses} pulses, opened by {ops}"


def starts(world: World) -> str:
    times = world.station.start_s
    return (
        f"{len(times)} starts of locker serve (mean {sum(times) / len(times):.2f} s until it "
        "answers)"
    )


def kill_at(world: World, point: str, visit: int) -> None:
    """Stop the running station at rest, and start it armed at ``point``'s ``visit``."""
    assert world.station.kill() == -signal.SIGKILL
    crash = {} if point == AFTER_HTTP_ANSWER else {crashpoints.ENV: f"{point}:{visit}"}
    world.station.start(crash)


def restarted(
    world: World, expected_pulses: dict[int, int], meanwhile: Callable[[], None] = lambda: None
) -> dbview.Snapshot:
    """The killed station's doors have finished their pulses; ``meanwhile`` is what people
    do while it is down; start it again; nothing was pulsed by the restart and the
    invariants hold."""
    for cid, pulses in expected_pulses.items():
        world.settle_doors(cid, pulses)
    assert world.pulses() == expected_pulses
    meanwhile()
    world.station.start()
    after = world.snapshot()
    assert dbview.problems(after, settled=True) == []
    assert world.pulses() == expected_pulses, "the restart pulsed a door"
    return after
