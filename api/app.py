"""The station's web app: the HTTP API under /api/v1, health and metrics, and the
background jobs in its lifespan."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlmodel import col, func, select

from api import openapi_errors, problems, screens
from api.background import Background
from api.body_limit import BodyLimit
from api.context import BoardHealth, StationContext, no_boards
from api.metrics import Metrics
from api.routes import (
    accounts,
    couriers,
    customers,
    kiosks,
    notifications,
    payments,
    staff,
    system,
)
from api.routes import recipients as directory_routes  # the directory (issue 17)
from locker.alerts import open_alerts
from locker.handover import CodeHandover
from locker.notify.notifier import Notifier
from locker.notify.senders import SmtpMailer, WebhookPoster
from locker.notify.webhook_guard import WebhookGuard
from locker.payments.cashier import Cashier
from locker.payments.provider import LinkProvider
from locker.payments.terminal import CardTerminal
from locker.runtime.settings import Settings
from locker.runtime.systemd import Heartbeats, WatchdogPinger, watchdog_period
from locker.services.backup_watch import BackupWatch
from locker.station import Station
from locker.store import queries
from locker.store.backups import BackupSchedule
from locker.store.tables import Parcel

if TYPE_CHECKING:
    from sim.station import SimStation

DESCRIPTION = """
The pickup station's API. **Couriers** sign in for a bearer token and deposit parcels;
**customers** need no account, only their PIN or QR token; **staff** sign in with a
password (bearer token for scripts, session cookie plus `X-CSRF-Token` for browsers).

Every error is `application/problem+json` with a stable `code`.

On a simulated station, `/api/v1/sim` (the hands at the simulated doors) needs a staff
session or token, or the simulator's own token (LOCKER_SIM_TOKEN, else printed at start-up)
as `Authorization: Bearer <token>`.
"""


def _gauges(station: Station) -> Callable[[], Mapping[str, Mapping[str, int]]]:
    def read() -> Mapping[str, Mapping[str, int]]:
        with station.db.read() as session:
            views = queries.compartments(session, station.layout)
            by_state: dict[str, int] = {}
            for view in views:
                by_state[view.state.value] = by_state.get(view.state.value, 0) + 1
            parcels = dict(
                session.exec(
                    select(Parcel.state, func.count(col(Parcel.id))).group_by(Parcel.state)
                ).all()
            )
            alerts = len(open_alerts(session))
        return {
            "compartments": by_state,
            "parcels": {str(k): int(v) for k, v in parcels.items()},
            "alerts": {"open": alerts},
        }

    return read


def make_context(
    station: Station,
    settings: Settings,
    *,
    bus_health: Callable[[], Mapping[str, Mapping[str, int]]] | None = None,
    board_health: Callable[[], BoardHealth] | None = None,
    sim_station: SimStation | None = None,
    sim_token: str | None = None,
    links: LinkProvider | None = None,
    card_terminal: CardTerminal | None = None,
) -> StationContext:
    """``sim_token`` (default: LOCKER_SIM_TOKEN, else a fresh one) opens /api/v1/sim.

    Pay at pick-up: ``links`` (default: from the settings, Stripe when a key is set) and
    ``card_terminal`` (the kiosk's, e.g. ZVT's client; None: no card payments) are the one
    place where the provider and the terminal are injected."""
    health = bus_health or (lambda: {})
    notify = settings.notify(station.layout.name)
    return StationContext(
        station=station,
        settings=settings,
        handover=CodeHandover(settings.code_handover_hours * 3600),
        metrics=Metrics(health, _gauges(station)),
        bus_health=health,
        notifier=Notifier(
            station,
            notify,
            SmtpMailer(notify.smtp) if notify.smtp else None,
            WebhookPoster(WebhookGuard(settings.webhook_allowed_hosts)),
        ),
        backups=BackupWatch(station, _backup_schedule(station, settings)),
        sim=sim_station,
        sim_token=sim_token or settings.sim_token.get_secret_value() or new_sim_token(),
        board_health=board_health or no_boards,
        cashier=Cashier(
            station,
            links=links if links is not None else settings.link_provider(),
            terminal=card_terminal,
            public_url=settings.public_url,
        ),
    )


def new_sim_token() -> str:
    """A fresh token for the simulator's hands, printed at start-up like a password."""
    return "sim_" + secrets.token_urlsafe(24)


EVENT_LOOP = "event loop"  # its heartbeat, for the systemd watchdog


async def _beat(heartbeats: Heartbeats, every_s: float) -> None:
    """The event loop's heartbeat: it beats only while the loop runs its tasks."""
    while True:
        heartbeats.beat(EVENT_LOOP)
        await asyncio.sleep(every_s)


def create_app(ctx: StationContext, *, background: bool = True) -> FastAPI:
    """The app around a running station; ``background=False`` leaves the jobs to the caller."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Under systemd's watchdog: WATCHDOG=1 only while the door watcher and this event
        # loop go round (locker.runtime.systemd); without one, nothing of it runs.
        period = watchdog_period()
        heartbeats = Heartbeats() if period is not None else None
        jobs = Background(ctx, heartbeats)
        # Payments a crash cut off, money to give back, links to ask about: before requests.
        await asyncio.to_thread(ctx.money.recover)
        if background:
            jobs.start()
        pinger = beating = None
        if heartbeats is not None and period is not None:
            heartbeats.expect(EVENT_LOOP)
            beating = asyncio.create_task(_beat(heartbeats, period / 4), name="event loop beat")
            pinger = WatchdogPinger(heartbeats, period)
            pinger.start()
        uplink = None
        if ctx.settings.hub_enabled:  # a fleet hub: the MQTT client, loaded only then
            from api.uplink import Uplink

            uplink = Uplink(ctx)
            uplink.start()
            app.state.uplink = uplink
        try:
            yield
        finally:
            if uplink is not None:
                uplink.stop()
            if pinger is not None:
                pinger.stop()
            if beating is not None:
                beating.cancel()
            await jobs.stop()

    app = FastAPIOffline(  # /docs served from the package, not a CDN: the station may be offline
        title=f"Pickup station: {ctx.station.layout.name}",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    problems.install(app)
    app.add_middleware(BodyLimit)
    for module in (customers, couriers, staff, accounts, kiosks, notifications, system, payments):
        app.include_router(module.router)
    from api.routes import people  # issue 17: a person's data, its export and erasure

    app.include_router(people.router)
    app.include_router(directory_routes.router)  # the directory (issue 17)
    if ctx.sim is not None:  # the simulator's hands, loaded only on a simulated station
        from api.routes import sim

        app.include_router(sim.router)
    openapi_errors.declare(app)
    screens.install(app, ctx)
    return app


def _backup_schedule(station: Station, settings: Settings) -> BackupSchedule:
    """The regular backups, their copy folder, and the hub when it is to get them too."""
    schedule = BackupSchedule(station.db.path, settings.key_path, settings.backups(), station.now)
    if settings.hub_backups:
        from api.hub_backup import HubBackupSender

        schedule.senders.append(HubBackupSender(settings))
    return schedule
