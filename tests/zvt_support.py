"""What the ZVT tests share: the golden frames of tests/data/zvt_frames.toml, and a
simulated terminal served on loopback with a client of the station pointed at it."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drivers.zvt import Timeouts, ZvtTerminal
from sim.zvt import TerminalSim, ZvtTimes, serve_zvt

FRAMES_FILE = Path(__file__).resolve().parent / "data" / "zvt_frames.toml"
PASSWORD = "123456"
# Short, so that a fault that makes the station wait ends a test quickly.
FAST = Timeouts(connect_s=2, ack_s=2, transaction_s=3, completion_s=0.3, abort_s=1)

with FRAMES_FILE.open("rb") as _handle:
    GOLDEN: dict[str, list[dict[str, Any]]] = tomllib.load(_handle)


def golden(side: str, **match: str) -> list[Any]:
    """One pytest param per golden row of ``side`` (``station`` or ``terminal``)."""
    rows = [r for r in GOLDEN[side] if all(r.get(k) == v for k, v in match.items())]
    return [pytest.param(row, id=row["name"]) for row in rows]


def hexb(text: str) -> bytes:
    return bytes.fromhex(text)


@dataclass
class Rig:
    sim: TerminalSim
    terminal: ZvtTerminal
    port: int

    def client(self, **options: Any) -> ZvtTerminal:
        """Another station client on the same terminal."""
        options.setdefault("password", PASSWORD)
        options.setdefault("timeouts", FAST)
        return ZvtTerminal("127.0.0.1", self.port, **options)

    def kinds_sent(self) -> list[str]:
        """The terminal's messages by their command bytes, in order."""
        self.settle()
        return [raw[:2].hex(" ") for raw in self.sim.sent]

    def received(self) -> list[str]:
        """The station's frames as the terminal got them, once every connection is over."""
        self.settle()
        return self.sim.frames_received()

    def settle(self) -> None:
        """Wait until the terminal has seen the end of every connection (the station's
        last acknowledgement may still be on its way when a call returns)."""
        deadline = time.monotonic() + 5
        while self.sim.connections and time.monotonic() < deadline:
            time.sleep(0.005)
        assert self.sim.connections == 0

    def clear(self) -> None:
        self.settle()
        self.sim.received.clear()
        self.sim.sent.clear()


@contextmanager
def rig(times: ZvtTimes | None = None, **client: Any) -> Iterator[Rig]:
    sim = TerminalSim(password=PASSWORD, times=times or ZvtTimes.zero())
    with serve_zvt(sim) as port:
        client.setdefault("password", PASSWORD)
        client.setdefault("timeouts", FAST)
        yield Rig(sim, ZvtTerminal("127.0.0.1", port, **client), port)
