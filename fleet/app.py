"""The hub's HTTP API (OpenAPI at /openapi.json): the fleet at a glance, one station in
detail, and the commands operators give. Every route but signing in needs a bearer token
of a role (:class:`NeedsRole`); errors are ``application/problem+json`` with a stable
``code``. No command opens a door: there is no such command, and the API says so.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet import accounts, commands, guard, station_backups
from fleet.accounts import HubRole
from fleet.api_answers import (
    AccountAnswer,
    AccountRequest,
    AlertOut,
    CommandOut,
    CommandRequest,
    CompartmentOut,
    EventOut,
    ParcelOut,
    ProblemOut,
    StationDetail,
    StationSummary,
    TokenAnswer,
    TokenRequest,
)
from fleet.carrier_api import router as carrier_router
from fleet.db import HubDatabase
from fleet.errors import NotAuthenticated, NotFound
from fleet.hub import Clock, Hub, HubDep, Publish
from fleet.problems import DOCUMENTED, install_problems
from fleet.screens import create_screens
from fleet.settings import HubSettings
from fleet.tables import (
    AlertView,
    CommandRow,
    CompartmentView,
    DroppedCount,
    EventRow,
    Operator,
    ParcelView,
    Station,
    StationState,
)

_LOG = logging.getLogger(__name__)
# -- roles ----------------------------------------------------------------------------


_BEARER = HTTPBearer(auto_error=False)


class NeedsRole:
    """The dependency every protected route has; tests find it on each route."""

    def __init__(self, role: HubRole) -> None:
        self.role: HubRole = role

    def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> Operator:
        if credentials is None:
            raise NotAuthenticated("Sign in first (POST /api/v1/auth/token).")
        hub: Hub = request.app.state.hub
        return accounts.authenticate(hub.db, credentials.credentials, self.role, hub.clock())


OPERATOR = NeedsRole("operator")
ADMIN = NeedsRole("admin")
AsOperator = Annotated[Operator, Depends(OPERATOR)]
AsAdmin = Annotated[Operator, Depends(ADMIN)]
# Anyone may sign in and read the API's documentation; every other route needs a role.
PUBLIC_ROUTES = frozenset(
    {
        ("POST", "/api/v1/auth/token"),
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("GET", "/redoc"),
        ("GET", "/"),  # a person's browser at the hub's address: to the fleet screen
        ("GET", "/favicon.ico"),
    }
)
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.svg"


# -- the app --------------------------------------------------------------------------


def create_app(
    db: HubDatabase,
    settings: HubSettings,
    publish: Publish,
    clock: Clock = lambda: datetime.now(UTC),
) -> FastAPI:
    app = FastAPIOffline(  # /docs from the package, not a CDN
        title="Open pickup station: fleet hub",
        version="1",
        description=__doc__,
        responses=DOCUMENTED,
        dependencies=[Depends(guard.printable_fields)],  # every route: fleet/guard.py
    )
    app.state.hub = Hub(db, settings, publish, clock)
    install_problems(app)
    app.add_middleware(guard.HubBodyLimit)  # before any route: no body over the cap is read
    app.add_middleware(guard.StrictTransport, settings=settings)  # on every answer, 413 too
    app.mount("/fleet", create_screens(app.state.hub))  # the operators' screen: fleet/screens

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        """The fleet screen (its sign-in, or the stations when signed in), not a 404."""
        return RedirectResponse("/fleet/", status_code=303)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(
            FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
        )

    @app.post("/api/v1/auth/token", tags=["accounts"])
    def sign_in(body: TokenRequest, request: Request, hub: HubDep) -> TokenAnswer:
        ttl = timedelta(hours=hub.settings.token_hours)
        now = hub.clock()
        address = request.client.host if request.client else None
        token = accounts.login(hub.db, body.name, body.password, now, ttl, address)
        operator = accounts.authenticate(hub.db, token, "operator", now)
        return TokenAnswer(token=token, expires_at=now + ttl, role=operator.role)

    @app.post("/api/v1/accounts", status_code=201, tags=["accounts"])
    def add_account(body: AccountRequest, hub: HubDep, _admin: AsAdmin) -> AccountAnswer:
        row = accounts.add_operator(hub.db, body.name, body.password, body.role, hub.clock())
        return AccountAnswer(name=row.name, role=row.role, created_at=row.created_at)

    @app.get("/api/v1/stations", tags=["stations"])
    def list_stations(hub: HubDep, _op: AsOperator) -> list[StationSummary]:
        with hub.db.transaction() as session:
            names = session.exec(select(Station.name).order_by(col(Station.name))).all()
            return [_summary(session, name) for name in names]

    @app.get("/api/v1/stations/{name}", tags=["stations"])
    def station_detail(name: str, hub: HubDep, _op: AsOperator) -> StationDetail:
        with hub.db.transaction() as session:
            return _detail(session, name, hub.settings.recent_events)

    @app.post("/api/v1/stations/{name}/announcements", status_code=202, tags=["commands"])
    def announce(name: str, body: commands.AnnounceArgs, hub: HubDep, op: AsOperator) -> CommandOut:
        return _give(hub, name, "announce", body, op)

    @app.post("/api/v1/stations/{name}/commands", status_code=202, tags=["commands"])
    def give_command(name: str, body: CommandRequest, hub: HubDep, op: AsOperator) -> CommandOut:
        kind = commands.check_type(body.type)
        try:
            args = commands.ARGS[kind].model_validate(body.args)
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", "args", *e["loc"])} for e in exc.errors()]
            ) from None
        return _give(hub, name, kind, args, op)

    @app.get("/api/v1/commands/{command_id}", tags=["commands"])
    def command_status(command_id: str, hub: HubDep, _op: AsOperator) -> CommandOut:
        with hub.db.transaction() as session:
            row = session.get(CommandRow, command_id)
            if row is None:
                raise NotFound("command", command_id)
            return _command_out(row)

    @app.get("/api/v1/ingest/dropped", tags=["ingest"])
    def dropped(hub: HubDep, _admin: AsAdmin) -> dict[str, int]:
        """Messages the workers dropped (bad payloads), by reason."""
        with hub.db.transaction() as session:
            return {r.reason: r.count for r in session.exec(select(DroppedCount)).all()}

    @app.get("/api/v1/stations/{name}/backups", tags=["stations"])
    def backups_of(name: str, hub: HubDep, _op: AsOperator) -> list[station_backups.BackupOut]:
        """The station's encrypted backups the hub keeps, newest first (the hub cannot
        read them: the shop keeps the backup key)."""
        return station_backups.list_backups(hub, name)

    @app.get(
        "/api/v1/stations/{name}/backups/{backup_id}",
        tags=["stations"],
        response_class=StreamingResponse,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    def backup_file(name: str, backup_id: str, hub: HubDep, _admin: AsAdmin) -> StreamingResponse:
        """One encrypted backup as the station sent it, to restore with `locker db restore
        --from-copy FILE --backup-key …` (the shop's backup key)."""
        return station_backups.download(hub, name, backup_id)

    app.include_router(carrier_router)
    app.include_router(station_backups.station_router())
    return app


def _give(hub: Hub, station: str, kind: Any, args: Any, op: Operator) -> CommandOut:
    with hub.db.transaction() as session:
        command = commands.issue(session, station, kind, args, by=op.name, now=hub.clock())
        session.flush()
        out = _command_out(session.get_one(CommandRow, command.id))
    hub.publish(command)  # after the commit: a station never answers an unknown command
    return out


def _command_out(row: CommandRow) -> CommandOut:
    problem_out = (
        ProblemOut(code=row.problem_code, detail=row.problem_detail or "")
        if row.problem_code
        else None
    )
    return CommandOut(
        id=row.id,
        station=row.station,
        type=row.type,
        args=commands.shown_args(row.args),  # no signature; the recipient's initials only
        by=row.by,
        issued_at=row.issued_at,
        state=row.state,
        result=row.result,
        problem=problem_out,
        answered_at=row.answered_at,
    )


def _summary(session: Session, name: str) -> StationSummary:
    state = session.get(StationState, name)
    if state is None:
        raise NotFound("station", name)
    by_state = session.exec(
        select(ParcelView.state, func.count())
        .where(ParcelView.station == name)
        .group_by(col(ParcelView.state))
    ).all()
    alerts = session.exec(
        select(func.count()).select_from(AlertView).where(AlertView.station == name)
    ).one()
    return StationSummary(
        name=name,
        online=state.online,
        last_seen=state.last_seen,
        boot=state.boot,
        events_applied=state.contiguous_seq,
        events_behind=max(0, state.station_last_seq - state.contiguous_seq),
        free=state.free,
        accessible_free=state.accessible_free,
        parcels={s: n for s, n in by_state},
        open_alerts=alerts,
        bus=state.bus,
    )


def _detail(session: Session, name: str, recent: int) -> StationDetail:
    summary = _summary(session, name)
    state = session.get_one(StationState, name)
    compartments = session.exec(
        select(CompartmentView)
        .where(CompartmentView.station == name)
        .order_by(col(CompartmentView.compartment_id))
    ).all()
    parcels = session.exec(
        select(ParcelView).where(ParcelView.station == name).order_by(col(ParcelView.parcel_id))
    ).all()
    alerts = session.exec(
        select(AlertView).where(AlertView.station == name).order_by(col(AlertView.raised_at))
    ).all()
    events = session.exec(
        select(EventRow)
        .where(EventRow.station == name)
        .order_by(col(EventRow.seq).desc())
        .limit(recent)
    ).all()
    return StationDetail(
        **summary.model_dump(),
        layout=state.layout,
        compartments=[
            CompartmentOut(id=c.compartment_id, size=c.size, state=c.state) for c in compartments
        ],
        live_parcels=[
            ParcelOut(
                id=p.parcel_id,
                tracking_number=p.tracking_number,
                carrier=p.carrier,
                state=p.state,
                size=p.size,
                compartment_id=p.compartment_id,
                deadline=p.deadline,
                accessible=p.accessible,
            )
            for p in parcels
        ],
        alerts=[
            AlertOut(
                kind=a.kind, compartment_id=a.compartment_id, detail=a.detail, raised_at=a.raised_at
            )
            for a in alerts
        ],
        recent_events=[
            EventOut(
                seq=e.seq,
                id=e.event_id,
                type=e.type,
                at=e.at,
                received_at=e.received_at,
                data=e.data,
            )
            for e in events
        ],
    )
