"""The customer's link to pay (in the notification, and as the kiosk's QR code): a page that
says what is due, a button to the provider's hosted page, and the page the provider sends
the customer back to, which asks the provider how the payment stands."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.schemas import PlainText
from api.screens.i18n import Words
from api.screens.render import language, render
from api.security import Ctx
from locker.errors import DomainError
from locker.payments import ledger
from locker.payments.amounts import shown
from locker.payments.due import parcel_of_pay_token
from locker.station import get_parcel

router = APIRouter(prefix="/pay", include_in_schema=False)
Token = Annotated[PlainText, Path(max_length=80)]


def _page(
    request: Request, ctx: Ctx, token: str, *, said: str = "", status: int = 200
) -> HTMLResponse:
    parcel_id = parcel_of_pay_token(ctx.station.hasher, token)
    words = Words(language(request))
    if parcel_id is None:
        return render(request, "pay.html", status=404, said=words("pay_unknown"), good=False)
    with ctx.station.db.read() as session:
        try:
            parcel = get_parcel(session, parcel_id)
        except DomainError:
            return render(request, "pay.html", status=404, said=words("pay_unknown"), good=False)
        paid = ledger.paid(session, parcel)
    amount = shown(parcel.amount_due_cents, parcel.currency, words.lang)
    if paid and not said:
        said = words("pay_done") if parcel.amount_due_cents else words("pay_nothing")
    return render(
        request,
        "pay.html",
        status=status,
        parcel=parcel,
        amount=amount,
        paid=paid,
        token=token,
        said=said,
        good=paid or not said,
        can_link=ctx.money.links is not None,
    )


@router.get("/{token}", response_class=HTMLResponse)
def show(token: Token, request: Request, ctx: Ctx) -> HTMLResponse:
    return _page(request, ctx, token)


@router.get("/{token}/go", response_model=None)
def go(token: Token, request: Request, ctx: Ctx) -> HTMLResponse | RedirectResponse:
    """On to the provider's page (the open one, or a new one for this attempt: asking
    again gives the same page, so a link followed twice makes no second payment). A link,
    not a form: the screens' policy lets forms post only to the station itself."""
    words = Words(language(request))
    try:
        url = ctx.money.link_for(token, actor="customer:link")
    except DomainError as exc:
        return _page(request, ctx, token, said=words.problem(exc), status=exc.status)
    if url is None:
        return _page(request, ctx, token, said=words("pay_no_provider"), status=404)
    return RedirectResponse(url, status_code=303)


@router.get("/{token}/done", response_class=HTMLResponse)
def done(token: Token, request: Request, ctx: Ctx) -> HTMLResponse:
    """Back from the provider: asked, not taken from the address (which anyone can type)."""
    words = Words(language(request))
    try:
        paid = ctx.money.check_token(token)
    except DomainError as exc:
        return _page(request, ctx, token, said=words.problem(exc), status=exc.status)
    return _page(request, ctx, token, said="" if paid else words("pay_not_yet"))
