"""Click & collect on the maintenance screen: staff put the shop's own orders into
compartments (no courier); the customer gets the code like any recipient and collects
at any hour, also after the shop has closed."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse

from api.routes.couriers import HANDOVER_WAIT_S
from api.schemas import MAX_ID, PlainText
from api.screens.forms import FormProblem, cold_kinds, parcel_from_form
from api.screens.i18n import Words
from api.screens.render import door_shown, language, render
from api.screens.sessions import screen_role
from api.security import Ctx
from locker.errors import DomainError
from locker.notify import qr_images
from locker.payments import amounts
from locker.people.identity import Principal
from locker.services import deposit, intake
from locker.station import get_parcel
from locker.types import DoorPurpose, ParcelKind, ParcelState, Role, SizeClass

router = APIRouter(prefix="/staff/orders", include_in_schema=False)
StaffUser = Annotated[Principal, Depends(screen_role("/staff", Role.STAFF))]
ParcelId = Annotated[int, Path(ge=1, le=MAX_ID)]
Text = Annotated[PlainText, Form(max_length=254)]
POLL_S = 1
WORK = {"HX-Retarget": "#order-work", "HX-Reswap": "innerHTML"}


def _work(request: Request, ctx: Ctx, *, status: int = 200, **values: Any) -> HTMLResponse:
    n = values.get("compartment")
    if n is not None:
        values.update(door_shown(ctx.station.layout, Words(language(request)), n))
    return render(
        request, "staff_order_work.html", status=status, headers=WORK, poll_s=POLL_S, **values
    )


@router.get("", response_class=HTMLResponse)
def page(request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    return render(
        request,
        "staff_orders.html",
        who=who,
        section="orders",
        sizes=list(SizeClass),
        live_s=2,
        cold_kinds=cold_kinds(ctx.station.layout),
    )


@router.post("", response_class=HTMLResponse)
def put_in(
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    order_number: Text = "",
    customer: Text = "",
    email: Text = "",
    phone: Text = "",
    customer_language: Annotated[Literal["en", "de"], Form()] = "en",
    size: Annotated[str, Form(max_length=4)] = "M",
    cold: Annotated[str, Form(max_length=10)] = "",
    amount_due: Text = "",
) -> HTMLResponse:
    """Hold a compartment of the order's size and open it; an amount due is paid at
    pick-up (pay at pick-up, issue 28)."""
    words = Words(language(request))
    try:
        cents = amounts.from_text(amount_due)
    except DomainError as exc:
        return _work(request, ctx, status=422, problem=words.problem(exc))
    try:
        body = parcel_from_form(
            tracking_number=order_number,
            recipient_name=customer,
            email=email,
            phone=phone,
            size=size,
            language=customer_language,
            cold=cold,
        )
    except FormProblem as exc:
        return _work(request, ctx, status=422, problem=str(exc))
    data = intake.ParcelInput(
        carrier=ctx.settings.shop_name,
        tracking_number=body.tracking_number,
        recipient_name=body.recipient_name,
        recipient_email=body.recipient_email,
        recipient_phone=body.recipient_phone,
        size=body.size,
        kind=ParcelKind.SHOP_ORDER,
        recipient_language=body.recipient_language,
        cold=body.cold,  # chilled or frozen goods: only a compartment of that kind
        amount_due_cents=cents,
    )
    try:
        held = deposit.reserve(ctx.station, actor=who.actor, parcel=data)
        result = deposit.deposit(ctx.station, actor=who.actor, parcel_id=held.parcel_id)
    except DomainError as exc:
        return _work(request, ctx, status=exc.status, problem=words.problem(exc))
    ctx.metrics.doors(DoorPurpose.DEPOSIT, (result,))
    if not result.opened:
        said = words("staff_not_opened", n=result.compartment_id)
        return _work(request, ctx, status=503, problem=said)
    return _work(request, ctx, parcel_id=held.parcel_id, compartment=result.compartment_id)


@router.get("/{parcel_id}/status", response_class=HTMLResponse)
def status(parcel_id: ParcelId, request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    """Polled while the door is open; once the order is stored, its code (a POST)."""
    with ctx.station.db.read() as session:
        parcel = get_parcel(session, parcel_id)
    if parcel.state is ParcelState.RESERVED:
        return render(request, "staff_order_waiting.html", parcel_id=parcel_id, poll_s=POLL_S)
    return _work(request, ctx, parcel_id=parcel_id, fetch=True, compartment=parcel.compartment_id)


@router.post("/{parcel_id}/code", response_class=HTMLResponse)
def code(parcel_id: ParcelId, request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    with ctx.station.db.read() as session:
        parcel = get_parcel(session, parcel_id)
    waiting = ctx.handover.take(parcel_id, wait_s=HANDOVER_WAIT_S)
    pin = waiting.code.pin if waiting and waiting.code else None
    qr = (
        base64.b64encode(qr_images.svg(waiting.code.qr_token)).decode()
        if waiting and waiting.code
        else None
    )
    return _work(
        request,
        ctx,
        stored=parcel.state is ParcelState.STORED,
        told=bool(parcel.recipient_email or parcel.recipient_phone),
        compartment=parcel.compartment_id,
        pin=pin,
        qr=qr,
    )
