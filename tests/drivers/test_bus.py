"""LockBus on real ports: missing ports, broken ports, reconnection, counters."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from urllib.parse import urlsplit

import pytest

from drivers.bus import LockBus
from drivers.counters import BusCounters
from drivers.errors import NoAnswer, PortUnavailable
from sim.bus import SimBus
from tests.drivers.conftest import serve
from tests.drivers.support import PROCESSING_S, PULSE_MS, Served, cu16


def test_a_missing_port_is_unavailable_and_not_hammered(
    make_bus: Callable[..., LockBus], tmp_path: object
) -> None:
    line = make_bus("/dev/does-not-exist", reopen_after_s=60)
    board = cu16(line, 0)
    for _ in range(3):
        with pytest.raises(PortUnavailable):
            board.status()
    assert line.counters().port_errors == 1  # one real attempt, then the back-off
    assert not line.is_open


def test_a_port_that_breaks_in_use_raises_port_unavailable(
    transport: str, make_bus: Callable[..., LockBus]
) -> None:
    sim = SimBus(protocol="cu16", addresses=[0], pulse_ms=PULSE_MS, processing_s=PROCESSING_S)
    with ExitStack() as stack:
        url = serve(stack, sim, transport)
        line = make_bus(url, reopen_after_s=0)
        assert cu16(line, 0).status().address == 0
    # the simulator (the adapter, the gateway) is gone while the port is open
    with pytest.raises((PortUnavailable, NoAnswer)):
        cu16(line, 0).status()
    with pytest.raises(PortUnavailable):
        cu16(line, 0).status()
    assert line.counters().port_errors >= 1


def test_the_bus_reconnects_when_the_port_comes_back(make_bus: Callable[..., LockBus]) -> None:
    sim = SimBus(protocol="cu16", addresses=[0], pulse_ms=PULSE_MS, processing_s=PROCESSING_S)
    with ExitStack() as stack:
        url = serve(stack, sim, "socket")
        line = make_bus(url, reopen_after_s=0)
        assert cu16(line, 0).status().address == 0
    with pytest.raises((PortUnavailable, NoAnswer)):
        cu16(line, 0).status()
    port = urlsplit(url).port
    assert port is not None
    with ExitStack() as stack:
        assert serve(stack, sim, "socket", port=port) == url
        assert cu16(line, 0).status().address == 0
    counters = line.counters()
    assert counters.reconnects == 1
    assert counters.port_errors >= 1


def test_counters_are_a_snapshot(sim: Served, line: LockBus) -> None:
    before = line.counters()
    cu16(line, 0).status()
    after = line.counters()
    assert isinstance(after, BusCounters)
    assert (before.requests, after.requests) == (0, 1)
    assert after.replies == 1
    assert set(after.as_dict()) >= {
        "timeouts",
        "checksum_errors",
        "bad_frames",
        "unexpected_answers",
        "dropped_bytes",
        "resyncs",
        "retries",
        "port_errors",
        "reconnects",
    }


def test_unexpected_answers_are_counted_and_ignored(sim: Served, line: LockBus) -> None:
    # ask board 0 for its status but accept only answers of board 1: board 0's is unexpected
    from drivers.kerong_cu16 import REPLY_RULE, RPL_STATUS, Cu16Reply, Cu16Request

    def only_board_1(raw: bytes) -> Cu16Reply | None:
        reply = Cu16Reply.from_bytes(raw)
        return reply if reply.code == RPL_STATUS and reply.board == 1 else None

    with pytest.raises(Exception, match="no valid answer") as caught:
        line.request(Cu16Request.status(0).to_bytes(), REPLY_RULE, only_board_1, retries=0)
    assert type(caught.value).__name__ == "BadFrame"
    assert line.counters().unexpected_answers == 1


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="timeout"):
        LockBus("loop://", timeout_s=0)
    with pytest.raises(ValueError, match="retries"):
        LockBus("loop://", retries=-1)
