"""The station state machine over in-memory doors."""

from __future__ import annotations

import pytest
from hypothesis.stateful import run_state_machine_as_test

from locker.layout import demo_layout
from locker.testkit.memory_locks import InMemoryLocks
from tests.stateful_model import Rig
from tests.stateful_station import StationMachine


def in_memory_rig() -> Rig:
    layout = demo_layout()
    locks = InMemoryLocks([c.id for c in layout.compartments])
    return Rig(layout=layout, locks=locks, hands=locks)


class InMemoryStation(StationMachine):
    make_rig = staticmethod(in_memory_rig)
    runs = {"examples": 0, "checks": 0}


def test_station_state_machine_over_in_memory_doors(capsys: pytest.CaptureFixture[str]) -> None:
    run_state_machine_as_test(InMemoryStation)
    with capsys.disabled():
        print(
            f"\n[stateful/in-memory] {InMemoryStation.runs['examples']} examples, "
            f"{InMemoryStation.runs['checks']} invariant checks, "
            f"{InMemoryStation.runs.get('beside', 0)} parcels put beside another, "
            f"{InMemoryStation.runs.get('shared', 0)} shared compartments collected, "
            f"{InMemoryStation.runs.get('asked to pay', 0)} codes asked to pay first, "
            f"{InMemoryStation.runs.get('paid by link', 0)} paid by link, "
            f"{InMemoryStation.runs.get('paid by card', 0)} by card"
        )
    assert InMemoryStation.runs["examples"] > 0
