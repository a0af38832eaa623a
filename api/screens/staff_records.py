"""The maintenance screen's records: the parcels (search, expired, extend), the audit log and
the station's health.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, func, select

from api.routes.system import backup_health, bus_states
from api.schemas import MAX_ID, PlainText
from api.screens.i18n import Words
from api.screens.render import language, render
from api.screens.staff import EXTEND_DAYS, HOME, ParcelId, StaffUser, staff_page
from api.security import Ctx
from locker.alerts import open_alerts
from locker.errors import (
    DomainError,
)
from locker.services import deadlines
from locker.station import get_parcel
from locker.store import queries
from locker.store.tables import Delivery, OutboxEvent
from locker.types import AlertKind, ParcelState

router = APIRouter(prefix=HOME, include_in_schema=False)


def _parcels(ctx: Ctx, q: str, state: str, *, overdue: bool = False) -> list[Any]:
    states = (ParcelState(state),) if state in {s.value for s in ParcelState} else ()
    where = queries.ParcelFilter(
        states=states,
        text=q.strip() or None,
        overdue_at=ctx.station.now() if overdue else None,
        limit=200,
    )
    with ctx.station.db.read() as session:
        return list(queries.parcels(session, where))


@router.get("/parcels", response_class=HTMLResponse)
def parcels(
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    q: Annotated[PlainText, Query(max_length=100)] = "",
    state: Annotated[PlainText, Query(max_length=20)] = "",
) -> HTMLResponse:
    """Parcels with search; an htmx search asks for the table alone."""
    found = _parcels(ctx, q, state)
    if request.headers.get("HX-Target") == "parcels-table":
        return render(request, "staff_parcels_table.html", parcels=found, extend_days=EXTEND_DAYS)
    return staff_page(
        request,
        "staff_parcels.html",
        "parcels",
        who,
        parcels=found,
        q=q,
        state=state,
        states=list(ParcelState),
        extend_days=EXTEND_DAYS,
    )


@router.get("/expired", response_class=HTMLResponse)
def expired(request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    """Parcels past their deadline, still in their compartments, for couriers to take back."""
    found = _parcels(ctx, "", ParcelState.EXPIRED.value)
    return staff_page(
        request, "staff_expired.html", "expired", who, parcels=found, extend_days=EXTEND_DAYS
    )


@router.post("/parcels/{parcel_id}/extend", response_class=HTMLResponse)
def extend(parcel_id: ParcelId, request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    """More time for the recipient (an expired parcel becomes collectable again)."""
    words = Words(language(request))
    try:
        with ctx.station.db.read() as session:
            parcel = get_parcel(session, parcel_id)
        now = ctx.station.now()
        until = max(parcel.deadline or now, now) + timedelta(days=EXTEND_DAYS)
        deadlines.extend_deadline(ctx.station, actor=who.actor, parcel_id=parcel_id, until=until)
        with ctx.station.db.read() as session:
            parcel = get_parcel(session, parcel_id)
    except DomainError as exc:
        said = words.problem(exc)
        return render(request, "staff_said.html", status=exc.status, said=said, good=False)
    said = words("staff_extended", id=parcel_id, until=until.strftime("%Y-%m-%d %H:%M"))
    return render(request, "staff_parcel_row.html", p=parcel, said=said, extend_days=EXTEND_DAYS)


@router.get("/audit", response_class=HTMLResponse)
def audit(
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    action: Annotated[PlainText, Query(max_length=64)] = "",
    actor: Annotated[PlainText, Query(max_length=200)] = "",
    parcel: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    compartment: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """The audit log, newest first, with filters and paging back."""
    where = queries.AuditFilter(
        action_prefix=action.strip() or None,
        actor=actor.strip() or None,
        parcel_id=parcel,
        compartment_id=compartment,
        before_id=before,
        limit=100,
    )
    with ctx.station.db.read() as session:
        entries = list(queries.audit(session, where))
    older = entries[-1].id if len(entries) == where.limit else None
    filters = {
        "action": action,
        "actor": actor,
        "parcel": parcel or "",
        "compartment": compartment or "",
    }
    return staff_page(
        request, "staff_audit.html", "audit", who, entries=entries, filters=filters, older=older
    )


@router.get("/health", response_class=HTMLResponse)
def health(request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    """Every bus: is it answering, and its traffic and error counters; the last good
    backup; the open alerts."""
    with ctx.station.db.read() as session:
        alerts = open_alerts(session)
        deliveries = list(
            session.exec(
                select(Delivery, OutboxEvent)
                .where(col(Delivery.event_id) == col(OutboxEvent.id))
                .order_by(col(Delivery.id).desc())
                .limit(20)
            ).all()
        )
        delivery_counts = dict(
            session.exec(
                select(Delivery.state, func.count(col(Delivery.id))).group_by(Delivery.state)
            ).all()
        )
    counters = ctx.bus_health()
    names = sorted({c for values in counters.values() for c in values})
    backup = backup_health(ctx, failing=any(a.kind is AlertKind.BACKUP_FAILED for a in alerts))
    words = Words(language(request))
    return staff_page(
        request,
        "staff_health.html",
        "health",
        who,
        states=bus_states(ctx),
        counters=counters,
        names=names,
        boards=ctx.board_health(),
        alerts=alerts,
        deliveries=deliveries,
        delivery_counts={str(k): v for k, v in delivery_counts.items()},
        backup=backup,
        backup_age=None if backup.age_s is None else age(words, backup.age_s),
    )


def age(words: Words, seconds: int) -> str:
    """E.g. "2 d 3 h", "3 h 5 min", "4 min"."""
    minutes = seconds // 60
    hours, m = divmod(minutes, 60)
    d, h = divmod(hours, 24)
    if d:
        return words("age_days", d=d, h=h)
    if h:
        return words("age_hours", h=h, m=m)
    return words("age_minutes", m=m)
