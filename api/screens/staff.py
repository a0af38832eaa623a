"""The maintenance screen: the station drawn as its front with every compartment's state
(updated live), a compartment's parcel, history and actions, parcels with search,
expired parcels, the audit log, and the health of the lock-board buses."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.routes.system import bus_states
from api.schemas import MAX_ID
from api.screens.i18n import Words
from api.screens.render import doors, language, render
from api.screens.sessions import screen_role, sign_in_form, sign_in_page, signed_out, visitor
from api.security import Ctx
from locker import queries
from locker.accounts import Principal
from locker.alerts import open_alerts
from locker.errors import DomainError, NotFound
from locker.queries import CompartmentView
from locker.services import staff
from locker.station import get_parcel
from locker.types import CompartmentState, DoorPurpose, ParcelState, Role

HOME = "/staff"
router = APIRouter(prefix=HOME, include_in_schema=False)
StaffUser = Annotated[Principal, Depends(screen_role(HOME, Role.STAFF))]
CompartmentNo = Annotated[int, Path(ge=1, le=MAX_ID)]
ParcelId = Annotated[int, Path(ge=1, le=MAX_ID)]
Reason = Annotated[str, Form(max_length=500)]
LIVE_S = 2
EXTEND_DAYS = 3


def _views(ctx: Ctx) -> list[CompartmentView]:
    with ctx.station.db.read() as session:
        return queries.compartments(session, ctx.station.layout)


def _front(request: Request, ctx: Ctx, selected: int | None = None) -> dict[str, Any]:
    words = Words(language(request))
    views = _views(ctx)
    css = {
        int(v.spec.id): " ".join(
            c
            for c in (
                f"state-{v.state.value}",
                "busy" if v.door_busy else "",
                "selected" if v.spec.id == selected else "",
            )
            if c
        )
        for v in views
    }
    labels = {
        int(v.spec.id): f"{words('compartment_n', n=v.spec.id)} ({v.spec.size.value}): "
        f"{words('state_' + v.state.value)}"
        for v in views
    }
    counts = {s: sum(1 for v in views if v.state is s) for s in CompartmentState}
    return {"doors": doors(ctx.station.layout, css, labels), "counts": counts}


def _page(
    request: Request, template: str, section: str, who: Principal, **values: Any
) -> HTMLResponse:
    return render(request, template, who=who, section=section, live_s=LIVE_S, **values)


@router.get("", response_class=HTMLResponse)
def page(
    request: Request,
    ctx: Ctx,
    who: Annotated[Principal | None, Depends(visitor)],
    c: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """The station's front; ``?c=`` opens a compartment's panel."""
    if who is None or not who.has(Role.STAFF):
        words = Words(language(request))
        return sign_in_page(
            request, HOME, "staff_title", message=words("wrong_role") if who else ""
        )
    with ctx.station.db.read() as session:
        alerts = open_alerts(session)
    return _page(
        request,
        "staff_station.html",
        "station",
        who,
        selected=c,
        alerts=alerts,
        states=list(CompartmentState),
        **_front(request, ctx, c),
    )


@router.post("/sign-in")
async def sign_in(
    request: Request,
    ctx: Ctx,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    new_password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return await sign_in_form(
        request,
        ctx,
        home=HOME,
        title_key="staff_title",
        roles=(Role.STAFF,),
        name=name,
        password=password,
        new_password=new_password,
    )


@router.post("/sign-out")
def sign_out(request: Request, ctx: Ctx, who: StaffUser) -> Response:
    return signed_out(request, ctx, HOME)


@router.get("/front", response_class=HTMLResponse)
def front(
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    c: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """The front alone, polled every few seconds."""
    return render(request, "staff_front.html", **_front(request, ctx, c))


def _detail(
    request: Request,
    ctx: Ctx,
    compartment_id: int,
    *,
    status: int = 200,
    said: str = "",
    good: bool = True,
) -> HTMLResponse:
    view = next((v for v in _views(ctx) if v.spec.id == compartment_id), None)
    if view is None:
        raise NotFound("compartment", compartment_id)
    with ctx.station.db.read() as session:
        parcel = get_parcel(session, view.parcel_id) if view.parcel_id else None
        history = queries.audit(
            session, queries.AuditFilter(compartment_id=compartment_id, limit=20)
        )
        alerts = [a for a in open_alerts(session) if a.compartment_id == compartment_id]
    return render(
        request,
        "staff_compartment.html",
        status=status,
        view=view,
        parcel=parcel,
        history=history,
        alerts=alerts,
        said=said,
        good=good,
    )


@router.get("/compartments/{compartment_id}", response_class=HTMLResponse)
def compartment(
    compartment_id: CompartmentNo, request: Request, ctx: Ctx, who: StaffUser
) -> HTMLResponse:
    return _detail(request, ctx, compartment_id)


@router.post("/compartments/{compartment_id}/open", response_class=HTMLResponse)
def open_door(
    compartment_id: CompartmentNo, request: Request, ctx: Ctx, who: StaffUser, reason: Reason = ""
) -> HTMLResponse:
    words = Words(language(request))
    if not reason.strip():
        return _detail(
            request, ctx, compartment_id, status=422, said=words("staff_reason"), good=False
        )
    try:
        result = staff.open_door(
            ctx.station, actor=who.actor, compartment_id=compartment_id, reason=reason.strip()
        )
    except DomainError as exc:
        return _detail(request, ctx, compartment_id, status=exc.status, said=str(exc), good=False)
    ctx.metrics.doors(DoorPurpose.STAFF, (result,))
    if not result.opened:
        said = words("staff_not_opened", n=compartment_id)
        return _detail(request, ctx, compartment_id, status=503, said=said, good=False)
    return _detail(request, ctx, compartment_id, said=words("staff_opened", n=compartment_id))


@router.post("/compartments/{compartment_id}/out-of-service", response_class=HTMLResponse)
def out_of_service(
    compartment_id: CompartmentNo, request: Request, ctx: Ctx, who: StaffUser, reason: Reason = ""
) -> HTMLResponse:
    words = Words(language(request))
    if not reason.strip():
        return _detail(
            request, ctx, compartment_id, status=422, said=words("staff_reason"), good=False
        )
    try:
        staff.set_out_of_service(
            ctx.station, actor=who.actor, compartment_id=compartment_id, reason=reason.strip()
        )
    except DomainError as exc:
        return _detail(request, ctx, compartment_id, status=exc.status, said=str(exc), good=False)
    return _detail(request, ctx, compartment_id, said=words("staff_taken_out", n=compartment_id))


@router.post("/compartments/{compartment_id}/clear-fault", response_class=HTMLResponse)
def clear_fault(
    compartment_id: CompartmentNo, request: Request, ctx: Ctx, who: StaffUser, note: Reason = ""
) -> HTMLResponse:
    words = Words(language(request))
    try:
        staff.clear_fault(
            ctx.station, actor=who.actor, compartment_id=compartment_id, note=note.strip()
        )
    except DomainError as exc:
        return _detail(request, ctx, compartment_id, status=exc.status, said=str(exc), good=False)
    return _detail(request, ctx, compartment_id, said=words("staff_back", n=compartment_id))


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
    q: Annotated[str, Query(max_length=100)] = "",
    state: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    """Parcels with search; an htmx search asks for the table alone."""
    found = _parcels(ctx, q, state)
    if request.headers.get("HX-Target") == "parcels-table":
        return render(request, "staff_parcels_table.html", parcels=found, extend_days=EXTEND_DAYS)
    return _page(
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
    return _page(
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
        staff.extend_deadline(ctx.station, actor=who.actor, parcel_id=parcel_id, until=until)
        with ctx.station.db.read() as session:
            parcel = get_parcel(session, parcel_id)
    except DomainError as exc:
        return render(request, "staff_said.html", status=exc.status, said=str(exc), good=False)
    said = words("staff_extended", id=parcel_id, until=until.strftime("%Y-%m-%d %H:%M"))
    return render(request, "staff_parcel_row.html", p=parcel, said=said, extend_days=EXTEND_DAYS)


@router.get("/audit", response_class=HTMLResponse)
def audit(
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    action: Annotated[str, Query(max_length=64)] = "",
    actor: Annotated[str, Query(max_length=200)] = "",
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
    return _page(
        request, "staff_audit.html", "audit", who, entries=entries, filters=filters, older=older
    )


@router.get("/health", response_class=HTMLResponse)
def health(request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    """Every bus: is it answering, and its traffic and error counters; the open alerts."""
    with ctx.station.db.read() as session:
        alerts = open_alerts(session)
    counters = ctx.bus_health()
    names = sorted({c for values in counters.values() for c in values})
    return _page(
        request,
        "staff_health.html",
        "health",
        who,
        states=bus_states(ctx),
        counters=counters,
        names=names,
        alerts=alerts,
    )
