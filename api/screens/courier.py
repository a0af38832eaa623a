"""The courier's screen: sign in, describe the parcel (or scan its tracking number), the
door opens, "close the door" until the station sees it closed, the code for the
recipient, next parcel; the parcels announced for the courier's carrier (a scanned or
typed tracking number of one picks it, and that parcel is deposited); and the expired
parcels to take back. A deposit under way is shown again when the page is loaded again
(the door, the wait for it to shut, then the code), so no code is lost to a reload."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse

from api.routes.couriers import HANDOVER_WAIT_S, load_parcel, open_counted, parcel_input
from api.schemas import MAX_ID, PlainText
from api.screens.courier_announced import under_way
from api.screens.forms import FormProblem, cold_kinds, parcel_from_form
from api.screens.i18n import Words
from api.screens.render import door_shown, language, render, where
from api.screens.sessions import screen_role, sign_in_instead, visitor_on
from api.screens.sign_in_routes import add_sign_in_routes
from api.security import Ctx
from locker.errors import DomainError, InvalidTransition
from locker.notify import qr_images
from locker.people import directory, directory_search
from locker.people.identity import Principal
from locker.services import beside as beside_service
from locker.services import deposit, staff
from locker.services.doors import UNCERTAIN, DoorResult
from locker.services.intake import Stored, announced_parcel
from locker.store.queries import waiting_for_couriers
from locker.store.tables import Parcel
from locker.types import DoorPurpose, ParcelState, Role, SizeClass

HOME = "/courier"
router = APIRouter(prefix=HOME, include_in_schema=False)
add_sign_in_routes(router, home=HOME, title_key="courier_title", role=Role.COURIER)
CourierUser = Annotated[Principal, Depends(screen_role(HOME, Role.COURIER))]
CourierVisitor = Annotated[Principal | None, Depends(visitor_on(HOME))]  # or nobody
ParcelId = Annotated[int, Path(ge=1, le=MAX_ID)]
Field = Annotated[PlainText, Form(max_length=254)]
Millimetres = Annotated[int | None, Form(ge=1, le=10_000)]
POLL_S = 1
WORK = {"HX-Retarget": "#work", "HX-Reswap": "innerHTML"}  # whoever asked: the work area
# A parcel of the lists beside the form changed (an announced one's door opened, or it was
# stored): the lists load again (courier.html).
CHANGED = {**WORK, "HX-Trigger": "courierParcels"}


def _work(
    request: Request,
    ctx: Ctx,
    template: str,
    *,
    status: int = 200,
    changed: bool = False,
    **values: Any,
) -> HTMLResponse:
    """A fragment for the courier's work area, with the front drawn if a door is named."""
    marked = values.get("compartment")
    if marked is not None:
        values.update(door_shown(ctx.station.layout, Words(language(request)), marked))
    headers = CHANGED if changed else WORK
    return render(request, template, status=status, poll_s=POLL_S, headers=headers, **values)


def _message(request: Request, ctx: Ctx, status: int, text: str, **values: Any) -> HTMLResponse:
    return _work(request, ctx, "courier_message.html", status=status, text=text, **values)


def _door_panel(
    request: Request,
    ctx: Ctx,
    parcel_id: int,
    compartment: int,
    *,
    status: int = 200,
    changed: bool = False,
    **said: str,
) -> HTMLResponse:
    """The open door: its place, the poller that waits for it to shut, and the buttons."""
    return _work(
        request,
        ctx,
        "courier_door.html",
        status=status,
        changed=changed,
        parcel_id=parcel_id,
        compartment=compartment,
        **said,
    )


def _refused(
    request: Request, ctx: Ctx, who: Principal, exc: DomainError, parcel_id: int | None = None
) -> HTMLResponse:
    """A refusal. While the parcel's deposit is still under way its door panel stays, with
    the poller and the buttons, so the code still reaches the courier once the door shuts."""
    words = Words(language(request))
    said = words.problem(exc)
    if parcel_id is not None:
        try:
            parcel = load_parcel(ctx.station, who, parcel_id)
        except DomainError:
            parcel = None
        if parcel is not None and parcel.compartment_id is not None:
            if parcel.state is ParcelState.RESERVED:
                return _door_panel(
                    request, ctx, parcel_id, parcel.compartment_id, status=exc.status, problem=said
                )
            if parcel.state is ParcelState.ANNOUNCED:  # its hold ran out
                return _message(
                    request, ctx, exc.status, words("courier_hold_lapsed"), retry_parcel=parcel_id
                )
    return _message(request, ctx, exc.status, said, back=True)


def _door(request: Request, ctx: Ctx, parcel_id: int, result: DoorResult) -> HTMLResponse:
    """What the courier sees after the station tried to open a compartment."""
    words = Words(language(request))
    n = result.compartment_id
    if result.outcome in UNCERTAIN:
        said = words("courier_uncertain", n=n)
        return _door_panel(request, ctx, parcel_id, n, status=503, uncertain=said)
    if not result.opened:
        return _message(request, ctx, 503, words("courier_not_opened", n=n), retry_parcel=parcel_id)
    return _door_panel(request, ctx, parcel_id, n, changed=True)


def _stored(
    request: Request, ctx: Ctx, stored: Stored | None, parcel: Parcel, compartment: int
) -> HTMLResponse:
    """The stored parcel, and its code once: named by tracking number and recipient, so
    the courier passes the right code to the right person."""
    code = stored.code if stored else None
    return _work(
        request,
        ctx,
        "courier_stored.html",
        changed=True,
        compartment=compartment,
        tracking_number=parcel.tracking_number,
        recipient_name=parcel.recipient_name,
        unknown=parcel.recipient_unknown,
        pin=code.pin if code else None,
        qr=base64.b64encode(qr_images.svg(code.qr_token)).decode() if code else None,
    )


@router.get("", response_class=HTMLResponse)
def page(
    request: Request,
    ctx: Ctx,
    who: CourierVisitor,
    said: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    sign_in = sign_in_instead(request, who, home=HOME, title_key="courier_title", role=Role.COURIER)
    if sign_in is not None:
        return sign_in
    assert who is not None  # sign_in_instead lets only a signed-in account through
    values: dict[str, Any] = {}
    resumed = under_way(ctx, who)
    if resumed is not None:
        template, values = resumed
        values["resume_template"] = template
        values.update(
            door_shown(ctx.station.layout, Words(language(request)), values["compartment"])
        )
    return render(
        request,
        "courier.html",
        who=who,
        sizes=list(SizeClass),
        poll_s=POLL_S,
        directory_used=directory.count(ctx.station) > 0,
        cold_kinds=cold_kinds(ctx.station.layout),
        token_revoked=said == "token_revoked",
        **values,
    )


@router.get("/new", response_class=HTMLResponse)
def new_parcel(request: Request, ctx: Ctx, who: CourierUser) -> HTMLResponse:
    """The empty form for the next parcel."""
    used = directory.count(ctx.station) > 0
    return render(
        request,
        "courier_form.html",
        sizes=list(SizeClass),
        directory_used=used,
        cold_kinds=cold_kinds(ctx.station.layout),
    )


@router.get("/recipients", response_class=HTMLResponse)
def recipients(
    request: Request,
    ctx: Ctx,
    who: CourierUser,
    recipient_name: Annotated[str, Query(max_length=500)] = "",
) -> HTMLResponse:
    """The directory's best few for what is typed or scanned, to choose from, and "none of
    these" (recipient unknown), chosen until the courier picks a person. A station with
    nobody in its directory offers nothing: the recipient is typed by hand as before."""
    if directory.count(ctx.station) == 0:
        return HTMLResponse("")
    found = directory_search.search(ctx.station, recipient_name) if recipient_name.strip() else []
    return render(
        request, "courier_matches.html", matches=found, typed=bool(recipient_name.strip())
    )


@router.post("/deposit", response_class=HTMLResponse)
def deposit_new(
    request: Request,
    ctx: Ctx,
    who: CourierUser,
    tracking_number: Field = "",
    recipient_name: Field = "",
    recipient_email: Field = "",
    recipient_phone: Field = "",
    size: Annotated[str, Form(max_length=4)] = "",
    width_mm: Millimetres = None,
    height_mm: Millimetres = None,
    depth_mm: Millimetres = None,
    beside: Annotated[str, Form(max_length=3)] = "",
    recipient_choice: Annotated[str, Form(max_length=20)] = "",
    cold: Annotated[str, Form(max_length=10)] = "",
) -> HTMLResponse:
    """Hold the best free compartment for the parcel and open it (for the person chosen
    from the directory, for nobody found, or for a recipient typed by hand); a chilled or
    frozen parcel only in a compartment of its kind. A tracking number announced for the
    courier's carrier is that parcel: it is deposited as announced, never as a second one."""
    with ctx.station.db.read() as session:
        known = announced_parcel(session, who.carrier or "", tracking_number.strip())
    if known is not None:
        return deposit_again(known, request, ctx, who)
    try:
        body = parcel_from_form(
            tracking_number=tracking_number,
            recipient_name=recipient_name,
            email=recipient_email,
            phone=recipient_phone,
            size=size,
            dimensions_mm=(width_mm, height_mm, depth_mm),
            recipient_choice=recipient_choice,
            cold=cold,
        )
    except FormProblem as exc:
        return _message(request, ctx, 422, str(exc), back=True)
    try:
        data = parcel_input(body, who)
        # Issue 17: the recipient has a parcel waiting; the courier says whether this one
        # fits beside it (asked once, in the form: #beside-offer), then that door opens.
        if not beside and (shared := beside_service.offer(ctx.station, data)) is not None:
            headers = {"HX-Retarget": "#beside-offer", "HX-Reswap": "innerHTML"}
            return render(request, "courier_beside.html", headers=headers, compartment=shared)
        held = (
            beside_service.reserve_beside(ctx.station, actor=who.actor, parcel=data)
            if beside == "yes"
            else None
        ) or deposit.reserve(ctx.station, actor=who.actor, parcel=data)
        result = open_counted(ctx, who, held.parcel_id)
    except DomainError as exc:
        return _refused(request, ctx, who, exc)
    return _door(request, ctx, held.parcel_id, result)


@router.post("/parcels/{parcel_id}/deposit", response_class=HTMLResponse)
def deposit_again(
    parcel_id: ParcelId, request: Request, ctx: Ctx, who: CourierUser
) -> HTMLResponse:
    """Another try for a parcel whose compartment did not open (a new one is held)."""
    try:
        if load_parcel(ctx.station, who, parcel_id).state is ParcelState.ANNOUNCED:
            deposit.reserve(ctx.station, actor=who.actor, parcel_id=parcel_id)
        result = open_counted(ctx, who, parcel_id)
    except DomainError as exc:
        return _refused(request, ctx, who, exc, parcel_id)
    return _door(request, ctx, parcel_id, result)


@router.post("/parcels/{parcel_id}/door-stuck", response_class=HTMLResponse)
def door_stuck(parcel_id: ParcelId, request: Request, ctx: Ctx, who: CourierUser) -> HTMLResponse:
    """The door would not open: that compartment is marked faulty and another one opens."""
    try:
        load_parcel(ctx.station, who, parcel_id)
        deposit.report_stuck_door(ctx.station, actor=who.actor, parcel_id=parcel_id)
        deposit.reserve(ctx.station, actor=who.actor, parcel_id=parcel_id)
        result = open_counted(ctx, who, parcel_id)
    except DomainError as exc:
        return _refused(request, ctx, who, exc, parcel_id)
    return _door(request, ctx, parcel_id, result)


@router.get("/parcels/{parcel_id}/status", response_class=HTMLResponse)
def status(parcel_id: ParcelId, request: Request, ctx: Ctx, who: CourierUser) -> HTMLResponse:
    """Polled while the door is open. It hands nothing over itself (a GET must not use the
    code up): once the parcel is stored it answers a fragment that asks for the code."""
    try:
        parcel = load_parcel(ctx.station, who, parcel_id)
    except DomainError as exc:
        return _refused(request, ctx, who, exc)
    if parcel.state is ParcelState.RESERVED:
        return render(request, "courier_waiting.html", parcel_id=parcel_id, poll_s=POLL_S)
    if parcel.state is ParcelState.STORED:
        return _work(request, ctx, "courier_fetch_code.html", parcel_id=parcel_id)
    return _refused(request, ctx, who, InvalidTransition(parcel.state.value), parcel_id)


@router.post("/parcels/{parcel_id}/code", response_class=HTMLResponse)
def code(parcel_id: ParcelId, request: Request, ctx: Ctx, who: CourierUser) -> HTMLResponse:
    """The code of a parcel the station stored, handed over once."""
    try:
        parcel = load_parcel(ctx.station, who, parcel_id)
    except DomainError as exc:
        return _refused(request, ctx, who, exc)
    if parcel.state is not ParcelState.STORED or parcel.compartment_id is None:
        return _refused(request, ctx, who, InvalidTransition(parcel.state.value), parcel_id)
    waiting = ctx.handover.take(parcel_id, wait_s=HANDOVER_WAIT_S)
    return _stored(request, ctx, waiting, parcel, parcel.compartment_id)


@router.post("/parcels/{parcel_id}/confirm", response_class=HTMLResponse)
def confirm(parcel_id: ParcelId, request: Request, ctx: Ctx, who: CourierUser) -> HTMLResponse:
    """The courier says the door is closed: the station reads it (and the IR strip) and
    stores the parcel, or says what is wrong."""
    try:
        parcel = load_parcel(ctx.station, who, parcel_id)
        stored = deposit.confirm_stored(ctx.station, parcel_id=parcel_id, actor=who.actor)
    except InvalidTransition as exc:
        parcel = load_parcel(ctx.station, who, parcel_id)
        if parcel.state is ParcelState.STORED and parcel.compartment_id is not None:
            waiting = ctx.handover.take(parcel_id, wait_s=HANDOVER_WAIT_S)  # the watcher's
            return _stored(request, ctx, waiting, parcel, parcel.compartment_id)
        return _refused(request, ctx, who, exc, parcel_id)
    except DomainError as exc:
        return _refused(request, ctx, who, exc, parcel_id)
    return _stored(request, ctx, stored, parcel, stored.compartment_id)


@router.get("/returns", response_class=HTMLResponse)
def returns(request: Request, ctx: Ctx, who: CourierUser) -> HTMLResponse:
    """Expired parcels and dropped-off returns of the courier's carrier, to take back."""
    with ctx.station.db.read() as session:
        waiting = list(waiting_for_couriers(session, who.carrier))
    return render(request, "courier_returns.html", parcels=waiting)


@router.post("/parcels/{parcel_id}/take-back", response_class=HTMLResponse)
def take_back(parcel_id: ParcelId, request: Request, ctx: Ctx, who: CourierUser) -> HTMLResponse:
    words = Words(language(request))
    try:
        load_parcel(ctx.station, who, parcel_id)
        result = staff.take_back(ctx.station, actor=who.actor, parcel_id=parcel_id)
    except DomainError as exc:
        return _refused(request, ctx, who, exc)
    ctx.metrics.doors(DoorPurpose.TAKE_BACK, (result,))
    n = result.compartment_id
    if not result.opened:
        return _message(request, ctx, 503, words("courier_not_opened", n=n), back=True)
    text = words("courier_taken_open", n=n, where=where(ctx.station.layout, words, n))
    return _message(request, ctx, 200, text, compartment=n, good=True, back=True, changed=True)
