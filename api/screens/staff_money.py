"""The maintenance screen's payments (issue 28): the unpaid parcels with their age, and for
each cash at the desk, a waiver or a new amount (all with a reason); a parcel's payments,
each refundable; the day's totals by way of payment; the terminal's end-of-day (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from api.schemas import MAX_ID, PlainText
from api.screens.i18n import Words
from api.screens.render import language, render
from api.screens.staff import HOME, AdminUser, ParcelId, StaffUser, staff_page
from api.screens.staff_records import age
from api.security import Ctx
from locker.errors import DomainError, ReasonRequired
from locker.payments import amounts, desk
from locker.payments.records import Method
from locker.people.identity import Principal
from locker.types import Role

router = APIRouter(prefix=HOME + "/payments", include_in_schema=False)
Reason = Annotated[PlainText, Form(max_length=500)]


def _values(request: Request, ctx: Ctx, who: Principal, parcel: int | None) -> dict[str, Any]:
    words = Words(language(request))
    totals = desk.day_totals(ctx.station, ctx.settings.timezone)
    currency = ctx.settings.payment_currency
    methods = sorted(set(totals.taken) | set(totals.returned))
    return {
        "unpaid": [
            {
                "u": u,
                "amount": amounts.shown(u.amount_cents, u.currency, words.lang),
                "age": age(words, int(u.age.total_seconds())),
            }
            for u in desk.unpaid(ctx.station)
        ],
        "day": totals.day,
        "totals": [
            (
                m,
                amounts.shown(totals.taken.get(m, 0), currency, words.lang),
                amounts.shown(totals.returned.get(m, 0), currency, words.lang),
                totals.count.get(m, 0),
            )
            for m in methods
        ],
        "parcel": parcel,
        "payments": desk.payments_of(ctx.station, parcel) if parcel else [],
        "shown": lambda cents, cur: amounts.shown(cents, cur, words.lang),
        "is_admin": who.role is Role.ADMIN,
        "has_terminal": ctx.money.terminal is not None,
    }


@router.get("", response_class=HTMLResponse)
def page(
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    parcel: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    try:
        values = _values(request, ctx, who, parcel)
    except DomainError:
        values = _values(request, ctx, who, None)
    return staff_page(request, "staff_payments.html", "payments", who, **values)


def _after(
    request: Request, ctx: Ctx, who: Principal, said: str, good: bool, parcel: int | None
) -> HTMLResponse:
    return render(
        request,
        "staff_payments_body.html",
        status=200 if good else 409,
        said=said,
        good=good,
        who=who,
        **_values(request, ctx, who, parcel),
    )


def _done(request: Request, ctx: Ctx, who: Principal, parcel: int | None, run: Any) -> HTMLResponse:
    words = Words(language(request))
    try:
        what = run()
    except DomainError as exc:
        return _after(request, ctx, who, words.problem(exc), False, parcel)
    return _after(request, ctx, who, words("staff_money_done", what=what), True, parcel)


@router.post("/{parcel_id}/cash", response_class=HTMLResponse)
def cash(
    parcel_id: ParcelId, request: Request, ctx: Ctx, who: StaffUser, reason: Reason = ""
) -> HTMLResponse:
    def run() -> str:
        desk.settle_at_desk(
            ctx.station, ctx.money.links, parcel_id, Method.CASH, actor=who.actor, reason=reason
        )
        return f"{parcel_id}: {Words(language(request))('staff_paid_cash')}"

    return _done(request, ctx, who, parcel_id, run)


@router.post("/{parcel_id}/waive", response_class=HTMLResponse)
def waive(
    parcel_id: ParcelId, request: Request, ctx: Ctx, who: StaffUser, reason: Reason = ""
) -> HTMLResponse:
    def run() -> str:
        desk.settle_at_desk(
            ctx.station, ctx.money.links, parcel_id, Method.WAIVED, actor=who.actor, reason=reason
        )
        return f"{parcel_id}: {Words(language(request))('staff_waive')}"

    return _done(request, ctx, who, parcel_id, run)


@router.post("/{parcel_id}/amount", response_class=HTMLResponse)
def set_amount(
    parcel_id: ParcelId,
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    amount: Annotated[PlainText, Form(max_length=20)] = "",
    reason: Reason = "",
) -> HTMLResponse:
    def run() -> str:
        cents = desk.set_amount(
            ctx.station,
            ctx.money.links,
            parcel_id,
            amounts.from_text(amount),
            actor=who.actor,
            reason=reason,
        )
        return f"{parcel_id}: {amounts.shown(cents, ctx.settings.payment_currency)}"

    return _done(request, ctx, who, parcel_id, run)


@router.post("/refund/{payment_id}", response_class=HTMLResponse)
def refund(
    payment_id: ParcelId,
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    parcel: Annotated[int, Form(ge=1, le=MAX_ID)],
    reason: Reason = "",
) -> HTMLResponse:
    def run() -> str:
        if not reason.strip():
            raise ReasonRequired("say why the money goes back")
        state = ctx.money.give_back(payment_id, actor=who.actor, reason=reason)
        return f"{payment_id}: {state.value}"

    return _done(request, ctx, who, parcel, run)


@router.post("/end-of-day", response_class=HTMLResponse)
def end_of_day(request: Request, ctx: Ctx, who: AdminUser) -> HTMLResponse:
    words = Words(language(request))

    def run() -> str:
        t = desk.end_of_day(ctx.station, ctx.money.terminal, actor=who.actor)
        amount = amounts.shown(t.total_cents, ctx.settings.payment_currency, words.lang)
        return words("staff_end_of_day_done", count=t.count, amount=amount, text=t.text)

    return _done(request, ctx, who, None, run)
