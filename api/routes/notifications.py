"""Carriers' webhooks (admins connect them), return codes (the shop or a carrier gives
them to customers), and what the outbox is doing (staff)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from sqlmodel import col, select

from api.openapi_errors import problem_responses
from api.problems import ProblemError
from api.schemas import PlainText
from api.schemas_system import CarrierIn, CarrierOut, DeliveryOut, ReturnCodeIn, ReturnCodeOut
from api.security import Admin, CourierOrStaff, Ctx, Staff
from locker.notify import carriers as carrier_hooks
from locker.notify.webhook_guard import WebhookGuard
from locker.services.returns import issue_return_code
from locker.store.tables import Delivery, OutboxEvent
from locker.types import DeliveryState

router = APIRouter(prefix="/api/v1", tags=["notifications"], responses=problem_responses(404, 409))
CarrierName = Annotated[PlainText, Path(min_length=1, max_length=200)]


@router.get("/carriers")
def list_carriers(who: Admin, ctx: Ctx) -> list[CarrierOut]:
    return [
        CarrierOut(name=c.name, webhook_url=c.webhook_url)
        for c in carrier_hooks.carriers(ctx.station)
    ]


@router.put("/carriers/{name}")
def connect_carrier(name: CarrierName, body: CarrierIn, who: Admin, ctx: Ctx) -> CarrierOut:
    """Where a carrier's webhooks go: every change of its parcels' states, signed with
    HMAC-SHA256 (``X-Station-Signature: t=<unix>,v1=<hex of HMAC(secret, "<t>." + body)>``)
    and retried until they are answered 2xx. The secret is shown when it is new. A URL
    into the station's own network (loopback, link-local, private, …) is refused
    (``webhook_url_forbidden``) unless LOCKER_WEBHOOK_ALLOW_HOSTS names its host."""
    hook = carrier_hooks.connect(
        ctx.station,
        name=name,
        webhook_url=body.webhook_url,
        actor=who.actor,
        new_secret=body.new_secret,
        guard=WebhookGuard(ctx.settings.webhook_allowed_hosts),
    )
    return CarrierOut(name=hook.name, webhook_url=hook.webhook_url, secret=hook.secret)


@router.post("/return-codes", status_code=status.HTTP_201_CREATED)
def return_code(body: ReturnCodeIn, who: CourierOrStaff, ctx: Ctx) -> ReturnCodeOut:
    """A code for a customer to drop a return off at the kiosk (a courier: for its own
    carrier; staff: for any carrier, the shop by default)."""
    if who.carrier is not None:
        if body.carrier not in (None, who.carrier):
            raise ProblemError(
                403, "forbidden", "A courier makes return codes for its own carrier."
            )
        carrier = who.carrier
    else:
        carrier = body.carrier or ctx.settings.shop_name
    issued = issue_return_code(
        ctx.station,
        carrier=carrier,
        reference=body.reference,
        size=body.size,
        actor=who.actor,
        valid_for=timedelta(days=ctx.settings.return_code_days),
    )
    return ReturnCodeOut(
        pin=issued.pin, carrier=carrier, reference=body.reference, expires_at=issued.expires_at
    )


@router.get("/notifications")
def notifications(
    who: Staff,
    ctx: Ctx,
    state: DeliveryState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    """The outbox's deliveries, newest first: to whom, over which channel, how it went."""
    query = select(Delivery, OutboxEvent).where(col(Delivery.event_id) == col(OutboxEvent.id))
    if state is not None:
        query = query.where(Delivery.state == state)
    with ctx.station.db.read() as session:
        rows = session.exec(query.order_by(col(Delivery.id).desc()).limit(limit)).all()
    return [
        DeliveryOut(
            id=d.id or 0,
            event=e.event,
            parcel_id=e.parcel_id,
            channel=d.channel.value,
            recipient=d.recipient,
            state=d.state.value,
            attempts=d.attempts,
            last_error=d.last_error,
            next_attempt_at=d.next_attempt_at,
            sent_at=d.sent_at,
        )
        for d, e in rows
    ]
