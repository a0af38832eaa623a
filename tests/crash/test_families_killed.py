"""Crash safety on every board family: ``locker serve`` killed between intent and pulse and
between pulse and read-back of a deposit and a collection, on the 8A/80 board and on Modbus
relay boards (doors read on input boards); restarted, it has pulsed at most once and lost
nothing (tests/crash/scenarios.py holds each kill point to what it may leave: without IR
strips a door that never opened cannot be told from one opened and shut, so it goes to
staff)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crash.scenarios import Kind, Scenario, run_scenario
from tests.crash.world import crash_world

POINTS = ("after_intent_commit", "after_unlock_frame")  # before the pulse, before read-back


@pytest.mark.parametrize("family", ["xor8a", "modbus-relay"])
def test_killed_mid_door_on_each_family_the_station_loses_nothing(
    family: str, tmp_path: Path
) -> None:
    scenarios = [
        Scenario(kind, point, ir=False) for kind in (Kind.DEPOSIT, Kind.COLLECT) for point in POINTS
    ]
    with crash_world(tmp_path, family=family) as world:
        endings = [run_scenario(world, s) for s in scenarios]
        last = world.deposit()
        world.collect(last)
        snap = world.agree()
        assert {p["state"] for p in snap.parcels.values()} <= {"stored", "collected"}
        world.station.stop()
    print(f"\n[crash/{family}]")
    for ending in endings:
        print(f"  {ending}")
    assert [e.pulses for e in endings] == [0 if s.point == POINTS[0] else 1 for s in scenarios]
