"""Helpers of the driver tests (imported; fixtures live in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.bus import LockBus
from drivers.kerong_cu12 import Cu12Board
from drivers.kerong_cu16 import Cu16Board
from sim.bus import SimBus

# Small times keep the suite fast; the driver reads them from its settings like real ones.
PULSE_MS = 20  # unlock pulse of every simulated board
TIMEOUT_S = 0.08  # answer deadline of the driver's bus
MARGIN_S = 0.05  # wait after the pulse before reading back
PROCESSING_S = 0.002  # the simulated board's reaction time


@dataclass
class Served:
    """A simulated bus and the URL the driver opens to reach it."""

    bus: SimBus
    url: str
    transport: str


def cu16(bus: LockBus, address: int = 0, **options: Any) -> Cu16Board:
    options.setdefault("pulse_ms", PULSE_MS)
    options.setdefault("release_margin_s", MARGIN_S)
    return Cu16Board(bus, address, **options)


def cu12(bus: LockBus, address: int = 0, **options: Any) -> Cu12Board:
    options.setdefault("pulse_ms", PULSE_MS)
    options.setdefault("release_margin_s", MARGIN_S)
    return Cu12Board(bus, address, **options)
