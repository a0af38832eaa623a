"""Helpers for the simulator's tests: the golden frames, a fake clock, the host end of a line.

The host side writes raw bytes by hand: these tests must not import ``drivers/``.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import serial

from sim.server import SimBus

GOLDEN_PATH = Path(__file__).resolve().parents[1] / "data" / "kerong_frames.toml"
LOCKS = {"cu16": 16, "cu12": 12}

Row = dict[str, Any]


def load_golden() -> dict[str, list[Row]]:
    with GOLDEN_PATH.open("rb") as f:
        data = tomllib.load(f)
    return {"cu16": data["cu16"], "cu12": data["cu12"]}


def golden_params() -> list[Any]:
    return [
        pytest.param(protocol, row, id=f"{protocol}: {row['name']}")
        for protocol, rows in load_golden().items()
        for row in rows
    ]


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text)


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def golden_boards(row: Row) -> list[int]:
    return list(row["reply_boards"]) if row["replies"] else [row["address"]]


def golden_bus(protocol: str, row: Row, **kwargs: Any) -> SimBus:
    """A bus in the state the row's replies describe (hooks engaged, items present)."""
    if row["command"] == "query_pulse":
        kwargs["pulse_ms"] = row["pulse_ms"]
    bus = SimBus(protocol, addresses=golden_boards(row), **kwargs)
    for index, board in enumerate(row.get("reply_boards", [])):
        if "hooks_engaged" in row:
            engaged = set(row["hooks_engaged"][index])
            for lock in range(1, LOCKS[protocol] + 1):
                if lock not in engaged:
                    bus.release_latch(board, lock)
        for lock in row.get("items", [[]] * len(row["replies"]))[index]:
            bus.put_item(board, lock)
    return bus


class Host:
    """The host end of a simulated line: raw bytes, by hand."""

    def __init__(self, port: serial.SerialBase) -> None:
        self.port = port

    def send(self, frame: bytes | str) -> float:
        """Write a frame; return the monotonic time just before the write."""
        data = hexbytes(frame) if isinstance(frame, str) else frame
        start = time.monotonic()
        self.port.write(data)
        self.port.flush()
        return start

    def read(self, n: int, timeout: float = 2.0) -> bytes:
        """Up to ``n`` bytes, waiting at most ``timeout`` for them."""
        self.port.timeout = timeout
        return bytes(self.port.read(n))

    def read_cu12(self, timeout: float = 2.0) -> bytes:
        """One CU12 frame: the 8-byte header, then DATALEN bytes."""
        head = self.read(8, timeout)
        if len(head) < 8:
            return head
        return head + self.read(head[5], timeout)

    def quiet(self, seconds: float) -> bytes:
        """Everything that arrives within ``seconds`` (b"" = the line stayed silent)."""
        self.port.timeout = seconds
        return bytes(self.port.read(4096))


def feed_bus(bus: SimBus, data: bytes, at: float) -> list[bytes]:
    """Decode ``data`` with the bus's own decoder and let the bus answer, in-process."""
    decoder = bus.new_decoder()
    answers: list[bytes] = []
    for item in decoder.feed(data):
        bus.record(item.frame, item.raw, at)
        answers += [answer.data for answer in bus.respond(item.frame, at)]
    bus.count_bad(decoder.bad_frames)
    return answers


Connect = Callable[[SimBus], Host]  # the ``connect`` fixture: serve a bus, get the host end
