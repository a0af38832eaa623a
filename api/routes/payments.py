"""Money at the door (issue 28): the provider's webhook, and staff's payments of a parcel:
its amount due, cash at the desk, a waiver, a refund or reversal; the unpaid parcels, the
day's totals and the card terminal's end-of-day (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.openapi_errors import problem_responses
from api.problems import ProblemError
from api.schemas import MAX_ID, ReasonIn
from api.schemas_payments import (
    AmountDueIn,
    EndOfDayOut,
    PaymentOut,
    TotalsOut,
    UnpaidOut,
    WebhookOut,
)
from api.security import Admin, Ctx, Staff
from locker.payments import desk, ledger
from locker.payments.records import Method, Payment

router = APIRouter(prefix="/api/v1", tags=["payments"], responses=problem_responses(404, 409))
ParcelId = Annotated[int, Path(ge=1, le=MAX_ID)]
PaymentId = Annotated[int, Path(ge=1, le=MAX_ID)]


def payment_out(p: Payment) -> PaymentOut:
    assert p.id is not None
    return PaymentOut.model_validate(p, from_attributes=True)


@router.post(
    "/payments/webhook",
    responses={
        400: {"description": "webhook_signature_invalid: forged or replayed"},
        404: {"description": "payment_links_off: this station takes no payments by link"},
        503: {"description": "payment_provider_unavailable: the provider is away"},
    },
)
async def webhook(request: Request, ctx: Ctx) -> WebhookOut:
    """The payment provider's signed webhook (Stripe). It only says "look": the payment is
    looked up at the provider before it counts."""
    payload = await request.body()
    headers = dict(request.headers)
    return WebhookOut(result=await run_in_threadpool(ctx.money.webhook, payload, headers))


@router.get("/parcels/{parcel_id}/payments")
def parcel_payments(parcel_id: ParcelId, ctx: Ctx, _who: Staff) -> list[PaymentOut]:
    return [payment_out(p) for p in desk.payments_of(ctx.station, parcel_id)]


@router.put("/parcels/{parcel_id}/amount-due", responses=problem_responses(422))
def set_amount(parcel_id: ParcelId, body: AmountDueIn, ctx: Ctx, who: Staff) -> dict[str, int]:
    """Change what the parcel costs (staff only, audited); not once it is paid."""
    cents = desk.set_amount(
        ctx.station,
        ctx.money.links,
        parcel_id,
        body.amount_due,
        actor=who.actor,
        reason=body.reason,
    )
    return {"amount_due": cents}


@router.post("/parcels/{parcel_id}/payments/cash")
def paid_in_cash(parcel_id: ParcelId, body: ReasonIn, ctx: Ctx, who: Staff) -> PaymentOut:
    """The customer paid at the desk: the parcel opens with its code now."""
    return _settled(ctx, parcel_id, Method.CASH, who.actor, body.reason)


@router.post("/parcels/{parcel_id}/payments/waive")
def waive(parcel_id: ParcelId, body: ReasonIn, ctx: Ctx, who: Staff) -> PaymentOut:
    """Nothing is taken; the parcel opens with its code."""
    return _settled(ctx, parcel_id, Method.WAIVED, who.actor, body.reason)


def _settled(ctx: Ctx, parcel_id: int, method: Method, actor: str, reason: str) -> PaymentOut:
    pid = desk.settle_at_desk(
        ctx.station, ctx.money.links, parcel_id, method, actor=actor, reason=reason
    )
    return next(payment_out(p) for p in desk.payments_of(ctx.station, parcel_id) if p.id == pid)


@router.post("/payments/{payment_id}/refund")
def refund(payment_id: PaymentId, body: ReasonIn, ctx: Ctx, who: Staff) -> PaymentOut:
    """Give the money back the way it came: refunded at the provider, reversed at the
    terminal, handed back in cash. A failure leaves an alert with what to do by hand."""
    ctx.money.give_back(payment_id, actor=who.actor, reason=body.reason)
    with ctx.station.db.read() as session:
        return payment_out(ledger.get(session, payment_id))


@router.get("/payments/unpaid")
def unpaid(ctx: Ctx, _who: Staff) -> list[UnpaidOut]:
    return [
        UnpaidOut(
            parcel_id=u.parcel_id,
            state=u.state.value,
            carrier=u.carrier,
            tracking_number=u.tracking_number,
            compartment_id=u.compartment_id,
            amount_cents=u.amount_cents,
            currency=u.currency,
            age_hours=round(u.age.total_seconds() / 3600, 1),
        )
        for u in desk.unpaid(ctx.station)
    ]


@router.get("/payments/totals")
def totals(
    ctx: Ctx,
    _who: Staff,
    day: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
) -> TotalsOut:
    """The day's money by way of payment (the station's time zone; default: today)."""
    moment = None
    if day is not None:
        try:
            moment = datetime.fromisoformat(day).replace(
                hour=12, tzinfo=ZoneInfo(ctx.settings.timezone)
            )
        except ValueError as exc:
            raise ProblemError(422, "day_invalid", f"{day} is not a day of the calendar") from exc
    t = desk.day_totals(ctx.station, ctx.settings.timezone, moment)
    return TotalsOut(
        day=t.day,
        currency=ctx.settings.payment_currency,
        taken_cents=t.taken,
        returned_cents=t.returned,
        count=t.count,
    )


@router.post("/terminal/end-of-day", responses=problem_responses(409))
def end_of_day(ctx: Ctx, who: Admin) -> EndOfDayOut:
    """The card terminal's end-of-day (06 50), audited."""
    t = desk.end_of_day(ctx.station, ctx.money.terminal, actor=who.actor)
    return EndOfDayOut(ok=t.ok, total_cents=t.total_cents, count=t.count, text=t.text)
