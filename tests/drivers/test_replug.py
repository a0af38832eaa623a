"""Every family's bus recovers by itself after its adapter or board was away: the pty is
closed (unplugged) and a new one appears under the same name (plugged in again)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.base import BoardBase
from drivers.bus import LockBus
from drivers.errors import BusError
from drivers.kerong_cu12 import Cu12Board
from drivers.kerong_cu16 import Cu16Board
from drivers.modbus_relay import Relay8Board
from drivers.xor8a import Xor8aBoard
from sim.bus import SimBus
from sim.modbus_bus import ModbusSimBus
from sim.server import serve_pty

FAMILIES: dict[str, tuple[Callable[[], SimBus], Callable[[LockBus], BoardBase], int]] = {
    "cu16": (lambda: SimBus("cu16", [0], processing_s=0.001), lambda b: Cu16Board(b, 0), 19200),
    "cu12": (lambda: SimBus("cu12", [0], processing_s=0.001), lambda b: Cu12Board(b, 0), 19200),
    "xor8a": (
        lambda: SimBus("xor8a", [1], baud=9600, processing_s=0.001, ir_sensors=False),
        lambda b: Xor8aBoard(b, 1),
        9600,
    ),
    "modbus-relay": (
        lambda: ModbusSimBus({1: (8, 8)}, processing_s=0.001),
        lambda b: Relay8Board(b, 1),
        9600,
    ),
}


def _replug(link: Path, target: str) -> None:
    fresh = link.with_suffix(".new")
    os.symlink(target, fresh)
    os.replace(fresh, link)  # the device node appears again under its old name


def _read_three_times(board: BoardBase) -> None:
    for _ in range(3):
        board.status()


def _read_until_back(board: BoardBase, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            board.status()
            return
        except BusError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_bus_comes_back_after_the_adapter_was_unplugged(family: str, tmp_path: Path) -> None:
    make_sim, make_board, baud = FAMILIES[family]
    link = tmp_path / "ttyUSB0"
    bus = LockBus(str(link), baudrate=baud, timeout_s=0.08, retries=1, reopen_after_s=0.05)
    board = make_board(bus)
    sim = make_sim()
    with serve_pty(sim) as path:
        _replug(link, path)
        assert board.status().address == board.address
    with pytest.raises(BusError):  # unplugged: the old pty is gone
        _read_three_times(board)
    link.unlink()
    with pytest.raises(BusError):  # and the device node with it
        board.status()
    with serve_pty(make_sim()) as path:  # plugged in again: a new line, the same name
        _replug(link, path)
        _read_until_back(board)
        unlocked = board.unlock(1)
    bus.close()
    assert unlocked.released is True
    counters = bus.counters()
    assert counters.port_errors >= 1
    assert counters.reconnects >= 1
