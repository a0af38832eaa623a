"""A whole station served over real HTTP for the end-to-end tests.

The simulator owns a real pty, the real driver opens it, the database is a SQLite file,
and uvicorn serves the app on a loopback port in a thread; tests talk to it with httpx.
Only time may be moved by hand (``LiveStation.clock``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI

from api.app import create_app, make_context
from api.context import StationContext
from api.runtime import Runtime, running_station
from api.threaded import served
from locker.people import accounts, credentials
from locker.runtime.settings import Settings
from locker.sensors import Thermometer
from locker.types import Role
from sim.station import SimStation
from tests.support import FakeClock

PASSWORD = "correct horse battery"


def layout_text(pulse_ms: int = 40) -> str:
    """Two CU16 boards and twelve compartments in three columns, with short pulses."""
    parts = ['[station]\nname = "Test station"\n', '[[bus]]\nid = "main"\nport = "sim"\n']
    for address in (0, 1):
        parts.append(f"[[board]]\naddress = {address}\npulse_ms = {pulse_ms}\n")
    sizes = ["S", "S", "M", "M", "L", "XL"]
    for i in range(12):
        board, lock = divmod(i, 6)
        parts.append(
            f"[[compartment]]\nid = {i + 1}\nboard = {board}\nlock = {lock + 1}\n"
            f'size = "{sizes[i % 6]}"\ncolumn = {i // 4 + 1}\nrow = {i % 4 + 1}\n'
        )
    return "\n".join(parts)


@dataclass
class LiveStation:
    base_url: str
    runtime: Runtime
    ctx: StationContext
    clock: FakeClock
    # admin, staff, courier, rival; and "sim": the simulator's own token (for /api/v1/sim)
    tokens: dict[str, str] = field(default_factory=dict)
    app: FastAPI | None = None  # the served app (its state holds the uplink, with a hub)

    @property
    def sim(self) -> SimStation:
        assert self.runtime.sim is not None
        return self.runtime.sim

    def client(self, who: str | None = None, *, local_address: str | None = None) -> httpx.Client:
        """An HTTP client, signed in as ``who`` (a key of ``tokens``) or anonymous."""
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
        return httpx.Client(
            base_url=self.base_url, headers=headers, timeout=30.0, transport=transport
        )


def _accounts(live: LiveStation) -> None:
    station = live.runtime.station
    for key, role, carrier in (
        ("admin", Role.ADMIN, None),
        ("staff", Role.STAFF, None),
        ("courier", Role.COURIER, "Parcel Co"),
        ("rival", Role.COURIER, "Other Express"),
    ):
        made = accounts.create_account(
            station, name=key, role=role, carrier=carrier, actor="test", password=PASSWORD
        )
        live.tokens[key] = credentials.issue_token(
            station, made.principal, ttl=timedelta(days=3650), label="test"
        ).token


@contextmanager
def live_station(
    tmp_path: Path,
    *,
    background: bool = True,
    pulse_ms: int = 40,
    layout: str | None = None,
    thermometers: Mapping[str, Thermometer] | None = None,
    server: Mapping[str, object] | None = None,
    **settings: object,
) -> Iterator[LiveStation]:
    """``layout`` (TOML text) replaces the twelve compartments; ``thermometers`` are its
    cold groups' sensors by id; ``server`` goes to uvicorn's configuration."""
    layout_file = tmp_path / "layout.toml"
    layout_file.write_text(layout if layout is not None else layout_text(pulse_ms))
    config = Settings(
        data_dir=tmp_path / "var",
        layout=layout_file,
        poll_s=0.05,
        _env_file=None,  # type: ignore[call-arg]
        **settings,  # type: ignore[arg-type]
    )
    clock = FakeClock()
    with running_station(config, thermometers=thermometers) as runtime:
        runtime.station.clock = clock
        ctx = make_context(
            runtime.station,
            config,
            bus_health=lambda: {k: v.as_dict() for k, v in runtime.locks.health().items()},
            board_health=lambda: {
                k: [b.as_dict() for b in v] for k, v in runtime.locks.board_health().items()
            },
            sim_station=runtime.sim,
            card_terminal=runtime.terminal,  # with LOCKER_ZVT_HOST=sim: the ZVT simulator
        )
        app = create_app(ctx, background=background)
        with served(app, **(server or {})) as base_url:
            live = LiveStation(base_url, runtime, ctx, clock, app=app)
            live.tokens["sim"] = ctx.sim_token
            _accounts(live)
            yield live


def wait_until(condition: object, *, timeout_s: float = 10.0) -> None:
    """Poll ``condition()`` until true (for the background door watcher); never a timing
    assertion: the timeout only stops a test that would hang."""
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)
