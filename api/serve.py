"""``locker serve``: the station's HTTP service on real doors (or the simulator).

It starts the simulator for buses whose layout port is ``"sim"`` (all of them with
``--sim``), opens every bus through the real driver, migrates the database, settles door
operations a crash interrupted, and only then accepts requests. On first start it
creates the ``admin`` account and prints its one-time password.
"""

from __future__ import annotations

import signal
import socket
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from api.app import create_app, make_context, new_sim_token
from api.console import front
from api.demo_payments import demo_provider
from api.runtime import Runtime, running_station
from locker.errors import DomainError
from locker.layout import LayoutError
from locker.people import accounts, credentials
from locker.runtime import journal
from locker.runtime.settings import ZVT_SIM, Settings
from locker.runtime.systemd import notify
from locker.store.advice import refusal
from locker.store.backups import BackupError
from locker.store.check import DatabaseUnusable
from locker.store.station_lock import StationBusy
from locker.types import Role

DEMO_COURIER = "demo-courier"
DEMO_CARRIER = "Demo Parcel Co"


def serve(
    layout: Annotated[
        Path | None, typer.Option(help="station layout TOML (default: the built-in demo)")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where the database and key live")] = None,
    force_sim: Annotated[
        bool, typer.Option("--sim", help="simulate every bus, whatever the layout says")
    ] = False,
    host: Annotated[str | None, typer.Option(help="address to listen on [127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on [8000]")] = None,
    demo: Annotated[
        bool,
        typer.Option("--demo", help=f"print a fresh token of the courier {DEMO_COURIER!r}"),
    ] = False,
) -> None:
    """Run the station: doors, database, HTTP API and background jobs, until Ctrl-C."""
    overrides: dict[str, object] = {}
    for key, value in (("layout", layout), ("data_dir", data_dir), ("host", host), ("port", port)):
        if value is not None:
            overrides[key] = value
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if demo and not settings.zvt_host:  # the demo's kiosk takes cards at a simulated terminal
        settings = settings.model_copy(update={"zvt_host": ZVT_SIM})
    _stop_on_signals()
    journal.install()  # under systemd: log records to the journal, with BUS=, COMPARTMENT=…
    notify("STATUS=starting: database, buses, interrupted door operations")
    try:
        with (
            demo_provider(settings, demo=demo) as (settings, paying),
            running_station(settings, force_sim=force_sim) as runtime,
        ):
            sim_token = settings.sim_token.get_secret_value() or new_sim_token()
            if paying:
                typer.echo(paying)
            _announce(runtime, settings, demo=demo, sim_token=sim_token)
            ctx = make_context(
                runtime.station,
                runtime.settings or settings,  # with the simulated terminal's address
                bus_health=lambda: {k: v.as_dict() for k, v in runtime.locks.health().items()},
                board_health=lambda: {
                    k: [b.as_dict() for b in v] for k, v in runtime.locks.board_health().items()
                },
                sim_station=runtime.sim,
                sim_token=sim_token,
                card_terminal=runtime.terminal,  # the kiosk's (ZVT; the demo's simulated one)
            )
            config = uvicorn.Config(
                create_app(ctx),
                host=settings.host,
                port=settings.port,
                log_level="info",
                proxy_headers=False,  # X-Forwarded-For must not pick the attempt-limit bucket
            )
            _Server(config).run()
    except LayoutError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    except DatabaseUnusable as exc:  # damaged, lost or a newer version's: restarting won't help
        typer.echo(refusal(exc, settings), err=True)
        raise typer.Exit(exc.exit_code) from exc
    except StationBusy as exc:
        typer.echo(f"locker: the station did not start. {exc}", err=True)
        raise typer.Exit(exc.exit_code) from exc
    except BackupError as exc:  # the backup before a migration: no migration without one
        typer.echo(
            f"locker: the station did not start; the database was not migrated. {exc}", err=True
        )
        raise typer.Exit(1) from exc
    except _Stopped:
        pass
    typer.echo("station stopped")


class _Server(uvicorn.Server):
    """uvicorn telling systemd (``Type=notify``) when it serves and when it stops.

    READY=1 is sent once uvicorn listens: by then ``running_station`` has checked and
    migrated the database, opened every bus and settled the interrupted door operations,
    and the app's lifespan has recovered interrupted payments and started the door
    watcher."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            where = f"{self.config.host}:{self.config.port}"
            notify(f"READY=1\nSTATUS=serving on {where}")

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        notify("STOPPING=1\nSTATUS=stopping: requests, background jobs, buses, database")
        await super().shutdown(sockets)


class _Stopped(BaseException):
    """SIGTERM or Ctrl-C: leave every ``with`` block in order (ports, database)."""


def _stop_on_signals() -> None:
    """Before and after uvicorn's own handling (uvicorn shuts down gracefully, then raises
    the signal again for the handler found before it), a signal ends the station cleanly."""

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise _Stopped

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def _announce(runtime: Runtime, settings: Settings, *, demo: bool, sim_token: str) -> None:
    station = runtime.station
    typer.echo(f"station: {station.layout.name}, {len(station.layout.compartments)} compartments")
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
    terminal = _terminal_line(runtime)
    if terminal:
        typer.echo(terminal)
    password = accounts.ensure_admin(station)
    if password is not None:
        typer.echo(
            f'first start: sign in as "admin" with the one-time password {password} '
            "(you choose your own at the first sign-in)"
        )
    if demo:
        for line in _demo_courier(runtime, settings):
            typer.echo(line)
    if runtime.sim is not None:  # the simulated doors take staff or this token, no one else
        shown = "from LOCKER_SIM_TOKEN" if settings.sim_token.get_secret_value() else sim_token
        typer.echo(
            f"simulator token (for /api/v1/sim as 'Authorization: Bearer <token>'; "
            f"/sim needs a staff sign-in): {shown}"
        )
    base = f"http://{settings.host}:{settings.port}"
    typer.echo(f"screens: {base}/kiosk  {base}/courier  {base}/staff")
    typer.echo(f"API docs: {base}/docs")
    typer.echo(f"health: {base}/healthz   metrics: {base}/metrics")
    if runtime.sim is not None:
        typer.echo(f"simulated doors: {base}/sim  (API: {base}/api/v1/sim/doors)")


def _terminal_line(runtime: Runtime) -> str:
    """Where the card terminal is and whether it took the registration (never its
    password)."""
    running = runtime.settings
    if runtime.terminal is None or running is None:
        return ""
    where = f"{running.zvt_host}:{running.zvt_port}"
    state = (
        "registered"
        if runtime.terminal_registered
        else ("not registered (it is tried again before the first payment)")
    )
    if runtime.zvt_sim is not None:
        return f"card terminal: simulated (ZVT) at {where}, {state}"
    return f"card terminal: ZVT at {where}, {state}"


def _demo_courier(runtime: Runtime, settings: Settings) -> list[str]:
    """A fresh token of the demo courier; on its first start also its one-time password,
    for the courier screen."""
    station = runtime.station
    ttl = timedelta(days=settings.device_token_days)
    for who, active in accounts.accounts(station):
        if who.name == DEMO_COURIER and active:
            token = credentials.issue_token(station, who, ttl=ttl, label="demo").token
            return [f"demo courier token ({DEMO_CARRIER}): {token}"]
    try:
        made = accounts.create_account(
            station,
            name=DEMO_COURIER,
            role=Role.COURIER,
            carrier=DEMO_CARRIER,
            actor="system",
            with_token=True,
            token_ttl=ttl,
        )
    except DomainError as exc:  # e.g. the name is taken by a switched-off account
        return [f"demo courier: none ({exc.message})"]
    return [
        f"demo courier token ({DEMO_CARRIER}): {made.token}",
        f'courier screen: sign in as "{DEMO_COURIER}" with the one-time password {made.password}',
    ]
