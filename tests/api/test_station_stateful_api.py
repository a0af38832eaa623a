"""The station state machine through the HTTP API: couriers, customers and staff act by
requests to the served app, which drives the real driver against the simulated boards
on a pty. The model and the invariants are those of tests/stateful_station.py."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from tests.stateful_station import StationMachine
from tests.station_ops import ApiOps
from tests.test_station_stateful_sim import serial_rig


class ApiStation(StationMachine):
    make_rig = staticmethod(serial_rig)
    make_ops = staticmethod(ApiOps)
    runs = {"examples": 0, "checks": 0}


@pytest.mark.slow
def test_station_state_machine_through_the_http_api(capsys: pytest.CaptureFixture[str]) -> None:
    run_state_machine_as_test(
        ApiStation, settings=settings(max_examples=15, stateful_step_count=25)
    )
    with capsys.disabled():
        print(
            f"\n[stateful/http+serial+sim] {ApiStation.runs['examples']} examples, "
            f"{ApiStation.runs['checks']} invariant checks"
        )
    assert ApiStation.runs["checks"] > 0
