"""The station state machine with the real driver on a real pty and the simulated boards."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from drivers.station_locks import SerialLocks
from locker.layout import parse_layout
from sim.station import SimStation
from tests.stateful_model import Rig
from tests.stateful_station import StationMachine

SIZES = ["S", "S", "M", "M", "M", "L", "L", "XL"]


def small_layout_text() -> str:
    """Two CU16 boards, ten compartments, short pulses so the machine runs quickly."""
    lines = ['[[bus]]\nid = "sim"\nport = "sim"\ntimeout_ms = 60\n']
    for address in (0, 3):
        lines.append(f"[[board]]\naddress = {address}\npulse_ms = 15\n")
    for i in range(10):
        board, lock = (0, i + 1) if i < 6 else (3, 16 - i)
        extra = "accessible = true\n" if i in (2, 7) else ""
        lines.append(
            f"[[compartment]]\nid = {i + 1}\nboard = {board}\nlock = {lock}\n"
            f'size = "{SIZES[i % len(SIZES)]}"\n{extra}'
        )
    return "\n".join(lines)


def serial_rig() -> Rig:
    layout = parse_layout(small_layout_text(), source="machine.toml")
    stack = ExitStack()
    sim = SimStation(layout, processing_s=0.001)
    ports = stack.enter_context(sim.serve())
    locks = stack.enter_context(SerialLocks(layout, ports))
    # A jammed latch reads engaged after the pulse; the driver pulses once more after
    # that fresh read (lock-protocol.md §10), so a refused opening costs two pulses.
    return Rig(layout=layout, locks=locks, hands=sim, pulses_when_jammed=2, close=stack.close)


class SerialStation(StationMachine):
    make_rig = staticmethod(serial_rig)
    runs = {"examples": 0, "checks": 0}


@pytest.mark.slow
def test_station_state_machine_over_the_real_driver_and_simulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_state_machine_as_test(
        SerialStation, settings=settings(max_examples=20, stateful_step_count=25)
    )
    with capsys.disabled():
        print(
            f"\n[stateful/serial+sim] {SerialStation.runs['examples']} examples, "
            f"{SerialStation.runs['checks']} invariant checks"
        )
    assert SerialStation.runs["examples"] > 0
