"""``locker serve``: run the station (until the HTTP API lands, on the console).

It starts the simulator when the layout asks for it, opens the boards through the real
driver, settles interrupted door operations, then watches the doors: a deposit whose door
is seen closed becomes stored (its pickup code is printed), parcels past their deadline
expire. ``--demo`` first plays one courier and one customer through the simulator.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from api.console import front
from api.runtime import Runtime, running_station
from locker.layout import LayoutError
from locker.services import deposit, pickup, staff
from locker.settings import Settings
from locker.types import SizeClass

EXPIRY_EVERY_S = 60.0


def serve(
    layout: Annotated[
        Path | None, typer.Option(help="station layout TOML (default: the built-in demo)")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where the database and key live")] = None,
    force_sim: Annotated[
        bool, typer.Option("--sim", help="simulate every bus, whatever the layout says")
    ] = False,
    demo: Annotated[
        bool, typer.Option("--demo", help="play one deposit and one collection first")
    ] = False,
    poll_s: Annotated[float, typer.Option(help="seconds between door reads")] = 0.5,
) -> None:
    """Run the station: doors, database and background work, until Ctrl-C."""
    overrides: dict[str, object] = {}
    if layout is not None:
        overrides["layout"] = layout
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = Settings(**overrides)  # type: ignore[arg-type]
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        with running_station(settings, force_sim=force_sim) as runtime:
            _announce(runtime, settings)
            if demo:
                _demo(runtime)
            _watch(runtime, stop, poll_s)
    except LayoutError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo("station stopped")


def _announce(runtime: Runtime, settings: Settings) -> None:
    station = runtime.station
    typer.echo(f"database: {settings.database_path.resolve()}")
    for bus in station.layout.buses:
        where = "simulated" if runtime.sim and bus.id in runtime.sim.buses else bus.port
        typer.echo(f"bus {bus.id}: {where}, {bus.baud} baud")
    for settled in runtime.reconciled:
        typer.echo(
            f"interrupted door operation {settled.op_id} on compartment "
            f"{settled.compartment_id}: {settled.verdict}"
        )
    typer.echo(front(station))


def _demo(runtime: Runtime) -> None:
    """One round trip through the real driver: courier deposits, customer collects."""
    station, sim = runtime.station, runtime.sim
    if sim is None:
        typer.echo("--demo needs the simulator (use --sim or the demo layout)", err=True)
        return
    data = deposit.ParcelInput(
        carrier="Demo Parcel Co",
        tracking_number="DEMO-0001",
        recipient_name="Alex Example",
        size=SizeClass.M,
    )
    reservation = deposit.reserve(station, actor="courier:demo", parcel=data)
    cid = reservation.compartment_id
    started = time.perf_counter()
    result = deposit.deposit(station, actor="courier:demo", parcel_id=reservation.parcel_id)
    took = (time.perf_counter() - started) * 1000
    typer.echo(f"courier: compartment {cid} {result.outcome.value} ({took:.0f} ms incl. pulse)")
    if not result.opened:
        return
    sim.put(cid)
    sim.close(cid)
    stored = deposit.store_closed_deposits(station)
    for item in stored:
        typer.echo(
            f"stored: parcel {item.parcel_id} in compartment {item.compartment_id}, "
            f"PIN {item.code.pin}, until {item.deadline:%Y-%m-%d %H:%M} UTC"
        )
    if not stored:
        return
    started = time.perf_counter()
    collected = pickup.collect(station, code=stored[0].code.pin, terminal="demo-kiosk")
    took = (time.perf_counter() - started) * 1000
    for door in collected.doors:
        typer.echo(
            f"customer: PIN opened compartment {door.compartment_id}: {door.outcome.value} "
            f"({took:.0f} ms incl. pulse)"
        )
    sim.take(cid)
    sim.close(cid)


def _watch(runtime: Runtime, stop: threading.Event, poll_s: float) -> None:
    station = runtime.station
    last_front = front(station)
    typer.echo(last_front)
    typer.echo("watching the doors; Ctrl-C stops")
    next_expiry = 0.0
    while not stop.wait(poll_s):
        for item in deposit.store_closed_deposits(station):
            typer.echo(
                f"stored: parcel {item.parcel_id} in compartment {item.compartment_id}, "
                f"PIN {item.code.pin}"
            )
        if time.monotonic() >= next_expiry:
            report = staff.expire(station)
            if report.expired_parcels or report.released_reservations:
                typer.echo(f"expired: {report}")
            next_expiry = time.monotonic() + EXPIRY_EVERY_S
        current = front(station)
        if current != last_front:
            typer.echo(current)
            last_front = current
