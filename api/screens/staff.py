"""The maintenance screen: the station drawn as its front with every compartment's state
(updated live), a compartment's parcel, history and actions (doors opened with a reason,
out of service and back). Its records (parcels with search, expired parcels, the audit
log, the health of the lock-board buses) are in :mod:`api.screens.staff_records`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from api.routes.staff import open_counted
from api.schemas import MAX_ID, PlainText
from api.screens.cold import COLD_LIVE_S, cold_panel
from api.screens.i18n import Words
from api.screens.render import doors, language, render
from api.screens.sessions import screen_role, sign_in_instead, visitor
from api.screens.sign_in_routes import add_sign_in_routes
from api.security import Ctx, client_address
from locker.alerts import open_alerts
from locker.errors import (
    DomainError,
    NotFound,
    SecondStaffInvalid,
    SecondStaffRequired,
    SecondStaffSamePerson,
)
from locker.people.identity import Principal
from locker.services import staff
from locker.services.doors import DoorResult
from locker.station import get_parcel
from locker.store import queries
from locker.store.queries import CompartmentView
from locker.store.tables import AuditEntry, Parcel
from locker.types import CompartmentState, DoorPurpose, Role

HOME = "/staff"
router = APIRouter(prefix=HOME, include_in_schema=False)
add_sign_in_routes(router, home=HOME, title_key="staff_title", role=Role.STAFF)
StaffUser = Annotated[Principal, Depends(screen_role(HOME, Role.STAFF))]
AdminUser = Annotated[Principal, Depends(screen_role(HOME, Role.ADMIN))]
CompartmentNo = Annotated[int, Path(ge=1, le=MAX_ID)]
ParcelId = Annotated[int, Path(ge=1, le=MAX_ID)]
Reason = Annotated[PlainText, Form(max_length=500)]
LIVE_S = 2
EXTEND_DAYS = 3


def _views(ctx: Ctx) -> list[CompartmentView]:
    with ctx.station.db.read() as session:
        return queries.compartments(session, ctx.station.layout)


def _sensed(ctx: Ctx, view: CompartmentView) -> tuple[bool, bool]:
    """What the door watcher's last read saw: (the door stands open, something is inside).
    Drawn over the compartment's state, so a door left open after a pickup is seen at once."""
    reading = (ctx.door_readings or {}).get(view.spec.id)
    if reading is None:
        return False, False
    inside = bool(reading.occupied) and view.state is not CompartmentState.OCCUPIED
    return not reading.latched, inside


def _front(request: Request, ctx: Ctx, selected: int | None = None) -> dict[str, Any]:
    words = Words(language(request))
    views = _views(ctx)
    sensed = {int(v.spec.id): _sensed(ctx, v) for v in views}
    css = {
        int(v.spec.id): " ".join(
            c
            for c in (
                f"state-{v.state.value}",
                "busy" if v.door_busy else "",
                "door-open" if sensed[v.spec.id][0] else "",
                "has-item" if sensed[v.spec.id][1] else "",
                "selected" if v.spec.id == selected else "",
            )
            if c
        )
        for v in views
    }
    labels = {
        int(v.spec.id): f"{words('compartment_n', n=v.spec.id)} ({v.spec.size.value}): "
        f"{words('state_' + v.state.value)}"
        + (f", {words('sensed_door_open')}" if sensed[v.spec.id][0] else "")
        + (f", {words('sensed_inside')}" if sensed[v.spec.id][1] else "")
        for v in views
    }
    counts = {s: sum(1 for v in views if v.state is s) for s in CompartmentState}
    return {"doors": doors(ctx.station.layout, css, labels), "counts": counts}


TODAY_SHOWN = 10  # the day's last deposits and collections on the first page


def _today(ctx: Ctx) -> list[tuple[AuditEntry, str]]:
    """Today's last deposits (stored) and collections, newest first, with the parcel's
    tracking number: what a shop's staff look for first."""
    now = ctx.station.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with ctx.station.db.read() as session:
        rows = session.exec(
            select(AuditEntry, Parcel.tracking_number)
            .join(Parcel, col(Parcel.id) == col(AuditEntry.parcel_id))
            .where(
                col(AuditEntry.action).in_(("parcel.stored", "parcel.collected")),
                col(AuditEntry.at) >= midnight,
            )
            .order_by(col(AuditEntry.id).desc())
            .limit(TODAY_SHOWN)
        ).all()
    return [(entry, tracking) for entry, tracking in rows]


def staff_page(
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
    sign_in = sign_in_instead(request, who, home=HOME, title_key="staff_title", role=Role.STAFF)
    if sign_in is not None:
        return sign_in
    assert who is not None  # sign_in_instead lets only a signed-in account through
    with ctx.station.db.read() as session:
        alerts = open_alerts(session)
    return staff_page(
        request,
        "staff_station.html",
        "station",
        who,
        selected=c,
        alerts=alerts,
        today=_today(ctx),
        cold=cold_panel(ctx, Words(language(request))),  # cooled compartments (issue 27)
        cold_live_s=COLD_LIVE_S,
        states=list(CompartmentState),
        **_front(request, ctx, c),
    )


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
    second: bool = False,
    reason: str = "",
    pin: str = "",
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
        second=second,
        reason=reason,
        pin=pin,
    )


@router.get("/compartments/{compartment_id}", response_class=HTMLResponse)
def compartment(
    compartment_id: CompartmentNo, request: Request, ctx: Ctx, who: StaffUser
) -> HTMLResponse:
    return _detail(request, ctx, compartment_id)


class _NoReason(Exception):
    """An action that goes to the audit log with a reason was asked for without one."""


def _reason(text: str) -> str:
    if not text.strip():
        raise _NoReason
    return text.strip()


Outcome = tuple[int, str, bool]  # status, what the panel says, whether it went well


def _acted(
    request: Request,
    ctx: Ctx,
    compartment_id: int,
    act: Callable[[Words], Outcome],
    pin: list[str] | None = None,
) -> HTMLResponse:
    """Do ``act`` and show the compartment's panel again with what came of it (and a new
    code's PIN, once, if ``act`` put one into ``pin``)."""
    words = Words(language(request))
    try:
        status, said, good = act(words)
    except _NoReason:
        status, said, good = 422, words("staff_reason_needed"), False
    except DomainError as exc:
        status, said, good = exc.status, words.problem(exc), False
    shown = pin[0] if pin else ""
    return _detail(request, ctx, compartment_id, status=status, said=said, good=good, pin=shown)


@router.post("/compartments/{compartment_id}/open", response_class=HTMLResponse)
def open_door(
    compartment_id: CompartmentNo,
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    reason: Reason = "",
    second_name: Annotated[PlainText, Form(max_length=200)] = "",
    second_password: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """A staff opening; past the station's limit the panel asks for a second staff member's
    name and password (an admin needs none)."""
    words = Words(language(request))
    second = (second_name, second_password) if second_name.strip() else None
    try:
        result = open_counted(
            ctx,
            who,
            compartment_id,
            reason=reason,
            second=second,
            client=client_address(request),
        )
    except (SecondStaffRequired, SecondStaffInvalid, SecondStaffSamePerson) as exc:
        said = words.problem(exc)
        return _detail(
            request,
            ctx,
            compartment_id,
            status=exc.status,
            said=said,
            good=False,
            second=True,
            reason=reason.strip(),
        )
    except DomainError as exc:
        said = words.problem(exc)
        return _detail(
            request,
            ctx,
            compartment_id,
            status=exc.status,
            said=said,
            good=False,
            second=second is not None,
            reason=reason.strip(),
        )
    if not result.opened:
        said = words("staff_not_opened", n=compartment_id)
        return _detail(request, ctx, compartment_id, status=503, said=said, good=False)
    return _detail(request, ctx, compartment_id, said=words("staff_opened", n=compartment_id))


@router.post("/open-all", response_class=HTMLResponse)
def open_all(request: Request, ctx: Ctx, who: AdminUser, reason: Reason = "") -> HTMLResponse:
    """Admins only: every door in service opens, one after another (e.g. for cleaning)."""
    words = Words(language(request))
    try:
        results = staff.open_all(ctx.station, actor=who.actor, reason=reason)
    except DomainError as exc:
        said = words.problem(exc)
        return render(request, "staff_said.html", status=exc.status, said=said, good=False)
    tried = tuple(DoorResult(r.compartment_id, r.outcome) for r in results if r.outcome is not None)
    ctx.metrics.doors(DoorPurpose.OPEN_ALL, tried)

    def ids(wanted: Callable[[staff.OpenAllDoor], bool]) -> str:
        return ", ".join(str(r.compartment_id) for r in results if wanted(r)) or "–"

    said = words(
        "staff_open_all_done",
        opened=ids(lambda r: r.opened),
        failed=ids(lambda r: r.outcome is not None and not r.opened),
        skipped=ids(lambda r: r.outcome is None),
    )
    return render(request, "staff_said.html", said=said, good=all(r.opened for r in tried))


@router.post("/compartments/{compartment_id}/out-of-service", response_class=HTMLResponse)
def out_of_service(
    compartment_id: CompartmentNo, request: Request, ctx: Ctx, who: StaffUser, reason: Reason = ""
) -> HTMLResponse:
    def act(words: Words) -> Outcome:
        staff.set_out_of_service(
            ctx.station, actor=who.actor, compartment_id=compartment_id, reason=_reason(reason)
        )
        return 200, words("staff_taken_out", n=compartment_id), True

    return _acted(request, ctx, compartment_id, act)


@router.post("/compartments/{compartment_id}/clear-fault", response_class=HTMLResponse)
def clear_fault(
    compartment_id: CompartmentNo, request: Request, ctx: Ctx, who: StaffUser, note: Reason = ""
) -> HTMLResponse:
    def act(words: Words) -> Outcome:
        staff.clear_fault(
            ctx.station, actor=who.actor, compartment_id=compartment_id, note=note.strip()
        )
        return 200, words("staff_back", n=compartment_id), True

    return _acted(request, ctx, compartment_id, act)
