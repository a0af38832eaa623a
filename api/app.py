"""The station's web app: the HTTP API under /api/v1, health and metrics, and the
background jobs in its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlmodel import col, func, select

from api import openapi_errors, problems, screens
from api.background import Background
from api.body_limit import BodyLimit
from api.context import StationContext
from api.metrics import Metrics
from api.routes import accounts, couriers, customers, notifications, sim, staff, system
from locker import queries
from locker.alerts import open_alerts
from locker.backups import BackupSchedule
from locker.handover import CodeHandover
from locker.notify.notifier import Notifier
from locker.notify.senders import SmtpMailer, WebhookPoster
from locker.notify.webhook_guard import WebhookGuard
from locker.services.backup_watch import BackupWatch
from locker.settings import Settings
from locker.station import Station
from locker.tables import Parcel
from sim.station import SimStation

DESCRIPTION = """
The pickup station's API. **Couriers** sign in for a bearer token and deposit parcels;
**customers** need no account, only their PIN or QR token; **staff** sign in with a
password (bearer token for scripts, session cookie plus `X-CSRF-Token` for browsers).

Every error is `application/problem+json` with a stable `code`.
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
    sim_station: SimStation | None = None,
) -> StationContext:
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
        backups=BackupWatch(
            station,
            BackupSchedule(station.db.path, settings.key_path, settings.backups(), station.now),
        ),
        sim=sim_station,
    )


def create_app(ctx: StationContext, *, background: bool = True) -> FastAPI:
    """The app around a running station; ``background=False`` leaves the jobs to the caller."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        jobs = Background(ctx)
        if background:
            jobs.start()
        try:
            yield
        finally:
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
    for module in (customers, couriers, staff, accounts, notifications, system):
        app.include_router(module.router)
    if ctx.sim is not None:
        app.include_router(sim.router)
    openapi_errors.declare(app)
    screens.install(app, ctx)
    return app
