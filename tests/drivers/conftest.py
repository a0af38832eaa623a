"""Fixtures of the driver tests: the simulator served over a real pty or a real TCP socket.

Every test that takes ``sim`` runs twice, once per transport: the driver must not care.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from drivers.bus import LockBus
from sim.bus import SimBus
from sim.server import serve_pty, serve_tcp
from tests.drivers.support import PROCESSING_S, PULSE_MS, TIMEOUT_S, Served


def serve(stack: ExitStack, bus: SimBus, transport: str, port: int = 0) -> str:
    if transport == "pty":
        return str(stack.enter_context(serve_pty(bus)))
    return str(stack.enter_context(serve_tcp(bus, host="127.0.0.1", port=port)))


@pytest.fixture(params=["pty", "socket"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_sim(transport: str) -> Iterator[Callable[..., Served]]:
    """Factory: ``make_sim(protocol="cu16", addresses=(0,), **SimBus options)``."""
    with ExitStack() as stack:

        def make(protocol: str = "cu16", addresses: Any = (0,), **options: Any) -> Served:
            options.setdefault("pulse_ms", PULSE_MS)
            options.setdefault("processing_s", PROCESSING_S)
            bus = SimBus(protocol=protocol, addresses=list(addresses), **options)
            return Served(bus, serve(stack, bus, transport), transport)

        yield make


@pytest.fixture
def sim(make_sim: Callable[..., Served]) -> Served:
    """Two CU16 boards (addresses 0 and 1) with IR strips."""
    return make_sim("cu16", (0, 1))


@pytest.fixture
def make_bus() -> Iterator[Callable[..., LockBus]]:
    """Factory of driver buses with short timeouts, closed after the test."""
    buses: list[LockBus] = []

    def make(url: str, **options: Any) -> LockBus:
        options.setdefault("timeout_s", TIMEOUT_S)
        bus = LockBus(url, **options)
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        bus.close()


@pytest.fixture
def line(sim: Served, make_bus: Callable[..., LockBus]) -> LockBus:
    """The driver's bus to the two-board CU16 simulator."""
    return make_bus(sim.url)
