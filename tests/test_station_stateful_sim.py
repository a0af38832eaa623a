"""The station state machine with the real driver on a real pty and the simulated boards.

One machine, several backends: each board family's driver against its own simulator
(Kerong CU16, the 8A/80 board, Modbus relay boards with a door input board); the extra
families run fewer examples to keep CI time reasonable.
"""

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
FAMILY_HEADS = {
    "xor8a": (
        '[[bus]]\nid = "sim"\nport = "sim"\nfamily = "xor8a"\ntimeout_ms = 60\n',
        "[[board]]\naddress = {a}\nchannels = 16\npulse_ms = 15\n",
        (1, 4),
    ),
    "modbus-relay": (
        '[[bus]]\nid = "sim"\nport = "sim"\nfamily = "modbus-relay"\ntimeout_ms = 60\n',
        '[[board]]\naddress = {a}\ntype = "modbus-relay-16"\npulse_ms = 100\n',
        (1, 4),
    ),
}


def family_layout_text(family: str) -> str:
    """Ten compartments on two boards of ``family`` (Modbus: 16-relay boards whose doors
    are read on input boards 11 and 14)."""
    bus, board, addresses = FAMILY_HEADS[family]
    lines = [bus] + [board.format(a=a) for a in addresses]
    if family == "modbus-relay":
        lines += [f'[[board]]\naddress = {a + 10}\ntype = "modbus-input-8"\n' for a in addresses]
    for i in range(10):
        where, lock = (addresses[0], i + 1) if i < 6 else (addresses[1], 16 - i)
        wiring = ""
        if family == "modbus-relay":
            wiring = f"input_board = {where + 10}\ninput = {i % 6 + 1 if i < 6 else 10 - i}\n"
        extra = "accessible = true\n" if i in (2, 7) else ""
        lines.append(
            f"[[compartment]]\nid = {i + 1}\nboard = {where}\nlock = {lock}\n{wiring}"
            f'size = "{SIZES[i % len(SIZES)]}"\n{extra}'
        )
    return "\n".join(lines)


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


def serial_rig(text: str | None = None) -> Rig:
    layout = parse_layout(text or small_layout_text(), source="machine.toml")
    stack = ExitStack()
    sim = SimStation(layout, processing_s=0.001)
    ports = stack.enter_context(sim.serve())
    locks = stack.enter_context(SerialLocks(layout, ports))
    locks.start()
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


class Xor8aStation(StationMachine):
    make_rig = staticmethod(lambda: serial_rig(family_layout_text("xor8a")))
    runs = {"examples": 0, "checks": 0}


class ModbusRelayStation(StationMachine):
    make_rig = staticmethod(lambda: serial_rig(family_layout_text("modbus-relay")))
    runs = {"examples": 0, "checks": 0}


@pytest.mark.slow
@pytest.mark.parametrize(
    "machine", [Xor8aStation, ModbusRelayStation], ids=["xor8a", "modbus-relay"]
)
def test_station_state_machine_over_each_other_family(
    machine: type[StationMachine], capsys: pytest.CaptureFixture[str]
) -> None:
    run_state_machine_as_test(machine, settings=settings(max_examples=6, stateful_step_count=20))
    with capsys.disabled():
        print(f"\n[stateful/{machine.__name__}] {machine.runs['examples']} examples")
    assert machine.runs["examples"] > 0
