"""The station itself: health, Prometheus metrics, and QR images of pickup tokens."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.schemas_system import BackupHealthOut, HealthOut, QrIn, UplinkHealthOut
from api.security import Ctx
from locker.alerts import open_alerts
from locker.notify import qr_images
from locker.types import AlertKind

router = APIRouter(tags=["station"])


def _database_ok(ctx: Ctx) -> bool:
    try:
        with ctx.station.db.read() as session:
            session.connection().execute(text("SELECT 1"))
    except Exception:  # any failure means the station cannot work
        return False
    return True


def _bus_state(ctx: Ctx, bus: str) -> Literal["ok", "no_answer"]:
    """From the door watcher's last read of every door; before it, from the counters."""
    if ctx.silent_buses is not None:
        return "no_answer" if bus in ctx.silent_buses else "ok"
    counters = ctx.bus_health().get(bus, {})
    return "no_answer" if counters.get("timeouts", 0) and not counters.get("replies", 0) else "ok"


def bus_states(ctx: Ctx) -> dict[str, Literal["ok", "no_answer"]]:
    return {bus.id: _bus_state(ctx, bus.id) for bus in ctx.station.layout.buses}


def backup_health(ctx: Ctx, *, failing: bool) -> BackupHealthOut:
    """The last good backup and its age by the station's clock; failing if the last
    backup could not be written (its alert is open)."""
    last = ctx.backups.last_good()
    age = None if last is None else max(0, int((ctx.station.now() - last).total_seconds()))
    state: Literal["ok", "failing", "never"] = (
        "failing" if failing else ("never" if last is None else "ok")
    )
    return BackupHealthOut(state=state, last_good_at=last, age_s=age)


def _uplink_health(request: Request) -> UplinkHealthOut | None:
    uplink = getattr(request.app.state, "uplink", None)
    if uplink is None:
        return None
    status = uplink.health()
    return UplinkHealthOut(
        state=status.state, tls=status.tls, detail=status.detail, since=status.since
    )


@router.get("/healthz", response_model=HealthOut, responses={503: {"model": HealthOut}})
def healthz(ctx: Ctx, request: Request) -> JSONResponse:
    """Is the station working: its database, its buses (a board that answered recently),
    its backups (the last good one and its age), and its link to a fleet hub if it has one
    (refused, e.g. the broker's certificate is not trusted: degraded)."""
    db_ok = _database_ok(ctx)
    buses = bus_states(ctx)
    alerts = 0
    backup_failing = False
    if db_ok:
        with ctx.station.db.read() as session:
            kinds = [a.kind for a in open_alerts(session)]
        alerts = len(kinds)
        backup_failing = AlertKind.BACKUP_FAILED in kinds
    backup = backup_health(ctx, failing=backup_failing)
    uplink = _uplink_health(request)
    working = (
        db_ok
        and all(v == "ok" for v in buses.values())
        and not backup_failing
        and (uplink is None or uplink.state != "refused")
    )
    body = HealthOut(
        status="ok" if working else "degraded",
        database="ok" if db_ok else "failing",
        buses=buses,
        open_alerts=alerts,
        backup=backup,
        uplink=uplink,
    )
    shown = body.model_dump(mode="json", exclude={"uplink"} if uplink is None else None)
    return JSONResponse(shown, status_code=200 if db_ok else 503)


@router.get("/metrics", response_class=Response)
def metrics(ctx: Ctx) -> Response:
    """Prometheus metrics: doors opened, codes rejected, bus errors, code-to-unlock time."""
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.post(
    "/api/v1/qr.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def qr_png(body: QrIn) -> Response:
    """The QR image of a pickup token, as PNG. It does not say whether the token is live."""
    return Response(qr_images.png(body.token), media_type="image/png")


@router.post(
    "/api/v1/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def qr_svg(body: QrIn) -> Response:
    """The QR image of a pickup token, as SVG."""
    return Response(qr_images.svg(body.token), media_type="image/svg+xml")
