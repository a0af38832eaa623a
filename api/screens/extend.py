"""The recipient's link to more time (in every message about a waiting parcel): a page
that says until when the parcel waits, and a button for a few more days, once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse

from api.schemas import PlainText
from api.screens.i18n import Words
from api.screens.render import language, render
from api.security import Ctx
from locker.errors import DomainError
from locker.notify.messages import parcel_of_token, when
from locker.services.extension import extend_by_link
from locker.services.holds import days_left, hold_by_link
from locker.station import get_parcel
from locker.types import ParcelKind, ParcelState

router = APIRouter(prefix="/extend", include_in_schema=False)
Token = Annotated[PlainText, Path(max_length=80)]


def _page(
    request: Request, ctx: Ctx, token: str, *, status: int = 200, said: str = "", good: bool = True
) -> HTMLResponse:
    parcel_id = parcel_of_token(ctx.station.hasher, token)
    config = ctx.notifier.config
    if parcel_id is None:
        return render(request, "extend.html", status=404, parcel=None, said="", good=False)
    with ctx.station.db.read() as session:
        try:
            parcel = get_parcel(session, parcel_id)
        except DomainError:
            return render(request, "extend.html", status=404, parcel=None, said="", good=False)
    waiting = parcel.state in (ParcelState.STORED, ParcelState.EXPIRED)
    hold_left = days_left(parcel, ctx.settings.hold_max_days)
    return render(
        request,
        "extend.html",
        status=status,
        parcel=parcel,
        deadline=when(parcel.deadline, config),
        can_extend=waiting and parcel.extensions < config.customer_extensions,
        days=config.customer_extend.days,
        token=token,
        said=said,
        good=good,
        # a hold while away (issue 17): only while it is stored, within the shop's limit
        can_hold=parcel.state is ParcelState.STORED and parcel.kind is ParcelKind.DELIVERY,
        hold_left=hold_left,
        held_until=when(parcel.held_until, config) if parcel.held_until else "",
    )


@router.get("/{token}", response_class=HTMLResponse)
def show(token: Token, request: Request, ctx: Ctx) -> HTMLResponse:
    return _page(request, ctx, token)


@router.post("/{token}/hold", response_class=HTMLResponse)
def hold(
    token: Token, request: Request, ctx: Ctx, days: Annotated[int, Form(ge=1, le=60)] = 1
) -> HTMLResponse:
    """The recipient is away: their parcels wait ``days`` longer, with no reminders."""
    words = Words(language(request))
    parcel_id = parcel_of_token(ctx.station.hasher, token)
    if parcel_id is None:
        return _page(request, ctx, token)
    config = ctx.notifier.config
    try:
        held = hold_by_link(ctx.station, parcel_id, days=days, max_days=ctx.settings.hold_max_days)
    except DomainError as exc:
        return _page(request, ctx, token, status=exc.status, said=words.problem(exc), good=False)
    said = words("hold_done", back=when(held.held_until, config), until=when(held.deadline, config))
    return _page(request, ctx, token, said=said)


@router.post("/{token}", response_class=HTMLResponse)
def extend(token: Token, request: Request, ctx: Ctx) -> HTMLResponse:
    words = Words(language(request))
    parcel_id = parcel_of_token(ctx.station.hasher, token)
    if parcel_id is None:
        return _page(request, ctx, token)
    config = ctx.notifier.config
    try:
        until = extend_by_link(
            ctx.station, parcel_id, by=config.customer_extend, limit=config.customer_extensions
        )
    except DomainError as exc:
        return _page(request, ctx, token, status=exc.status, said=words.problem(exc), good=False)
    said = words("extend_done", until=when(until, config))
    return _page(request, ctx, token, said=said)
