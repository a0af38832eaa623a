"""`locker hw scan`, `status` and `open` for every family, as a separate process on a real
line (socket://) to the simulator of that family."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sim.bus import BoardConfig, SimBus
from sim.faults import Fault
from sim.modbus_bus import ModbusSimBus
from sim.server import serve_tcp
from tests.drivers.test_cli import hw


@pytest.fixture
def kerong() -> Iterator[tuple[SimBus, str]]:
    bus = SimBus("cu12", [2, 5], processing_s=0.001)
    with serve_tcp(bus) as url:
        yield bus, url


@pytest.fixture
def xor() -> Iterator[tuple[SimBus, str]]:
    bus = SimBus(
        "xor8a",
        [1, 7],
        baud=9600,
        pulse_ms=20,
        processing_s=0.001,
        ir_sensors=False,
        boards={1: BoardConfig(locks=24), 7: BoardConfig(locks=12)},
    )
    with serve_tcp(bus) as url:
        yield bus, url


@pytest.fixture
def modbus() -> Iterator[tuple[ModbusSimBus, str]]:
    bus = ModbusSimBus({1: (8, 8), 2: (16, 0), 3: (0, 8)}, sensors={10: -19.5}, pulse_ms=100)
    with serve_tcp(bus) as url:
        yield bus, url


def test_scan_finds_kerong_boards_and_their_firmware(kerong: tuple[SimBus, str]) -> None:
    done = hw("scan", "--port", kerong[1], "--family", "kerong")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "family type address channels inputs firmware reading",
        "kerong cu12 2 12 0 soft 10 hard 12 -",
        "kerong cu12 5 12 0 soft 10 hard 12 -",
    ]


def test_scan_finds_8a_boards_and_their_channels(xor: tuple[SimBus, str]) -> None:
    done = hw("scan", "--port", xor[1], "--family", "xor8a", "--to", "8")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == ["xor8a xor8a 1 24 0 - -", "xor8a xor8a 7 16 0 - -"]


def test_scan_finds_relay_boards_input_boards_and_sensors(
    modbus: tuple[ModbusSimBus, str],
) -> None:
    done = hw("scan", "--port", modbus[1], "--family", "modbus-relay", "--to", "12")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == [
        "modbus-relay modbus-relay-8 1 8 8 - -",
        "modbus-relay modbus-relay-16 2 16 0 - -",
        "modbus-relay modbus-input-8 3 0 8 - -",
        "modbus-relay xy-md02 10 0 0 - -19.5C",
    ]


def test_scan_of_a_silent_bus_exits_1(modbus: tuple[ModbusSimBus, str]) -> None:
    done = hw("scan", "--port", modbus[1], "--family", "xor8a", "--to", "3")
    assert done.returncode == 1
    assert done.stderr.startswith("error: no xor8a device answered")


def test_open_and_status_of_an_8a_board(xor: tuple[SimBus, str]) -> None:
    bus, url = xor
    args = ["--port", url, "--type", "xor8a", "--board", "1", "--channels", "24"]
    done = hw("open", *args, "--lock", "20", "--pulse-ms", "20")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["board lock hook pulses", "1 20 released 1"]
    status = hw("status", *args)
    assert "1 20 released -" in status.stdout.splitlines()
    assert len(status.stdout.splitlines()) == 25
    bus.inject(Fault.CORRUPT_BYTE, board=1)
    bad = hw("status", *args)
    assert bad.returncode == 1
    assert "bad checksum (3 of 3 tries)" in bad.stderr


def test_open_and_status_of_a_relay_board_with_failure_kinds(
    modbus: tuple[ModbusSimBus, str],
) -> None:
    bus, url = modbus
    args = ["--port", url, "--type", "modbus-relay-8", "--board", "1"]
    done = hw("open", *args, "--lock", "3", "--pulse-ms", "100")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == "1 3 released 1"
    bus.inject(Fault.STUCK_LATCH, board=1, lock=4)
    stuck = hw("open", *args, "--lock", "4", "--pulse-ms", "100")
    assert stuck.returncode == 3
    bus.inject(Fault.TRUNCATED, board=1)
    torn = hw("status", *args)
    assert torn.returncode == 1
    assert "torn frame" in torn.stderr
    bus.clear_faults()
    bus.inject(Fault.EXCEPTION, board=1, n=6)
    busy = hw("open", *args, "--lock", "5")
    assert busy.returncode == 3
    assert "device busy" in busy.stderr
