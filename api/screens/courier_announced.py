"""The courier's screen, continued: the parcels announced for the courier's carrier (a
scanned or typed tracking number of one picks it, and that parcel is deposited as it was
announced), and the deposit still under way when the page is loaded again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from api.screens.i18n import Words
from api.screens.render import language, render
from api.screens.sessions import screen_role
from api.security import Ctx
from locker.payments import amounts
from locker.people.identity import Principal
from locker.store.tables import Parcel
from locker.types import ParcelState, Role

HOME = "/courier"
router = APIRouter(prefix=HOME, include_in_schema=False)
CourierUser = Annotated[Principal, Depends(screen_role(HOME, Role.COURIER))]


def under_way(ctx: Ctx, who: Principal) -> tuple[str, dict[str, Any]] | None:
    """This courier's deposit still under way, to show again on a reload: a door opened
    for them and not yet seen shut (its panel, polling), or a parcel stored whose code
    still waits for them (fetched once, as after a close)."""
    with ctx.station.db.read() as session:
        open_door = session.exec(
            select(Parcel)
            .where(
                Parcel.state == ParcelState.RESERVED,
                Parcel.courier == who.actor,
                Parcel.carrier == who.carrier,
                col(Parcel.door_opened_at).is_not(None),
            )
            .order_by(col(Parcel.door_opened_at).desc())
            .limit(1)
        ).first()
        stored = session.exec(
            select(Parcel.id, Parcel.compartment_id)
            .where(
                Parcel.state == ParcelState.STORED,
                Parcel.courier == who.actor,
                Parcel.carrier == who.carrier,
            )
            .order_by(col(Parcel.stored_at).desc())
            .limit(5)
        ).all()
    if open_door is not None and open_door.compartment_id is not None:
        return "courier_door.html", {
            "parcel_id": open_door.id,
            "compartment": open_door.compartment_id,
            "resumed": True,
        }
    for pid, cid in stored:
        if pid is not None and cid is not None and ctx.handover.waiting(pid):
            return "courier_fetch_code.html", {"parcel_id": pid, "compartment": cid}
    return None


def _announced(ctx: Ctx, who: Principal, tracking_number: str | None = None) -> list[Parcel]:
    """The parcels announced for the courier's carrier here, oldest first (or the one
    with ``tracking_number``)."""
    with ctx.station.db.read() as session:
        query = select(Parcel).where(
            Parcel.state == ParcelState.ANNOUNCED, Parcel.carrier == who.carrier
        )
        if tracking_number is not None:
            query = query.where(Parcel.tracking_number == tracking_number)
        return list(session.exec(query.order_by(col(Parcel.created_at)).limit(100)).all())


def _marks(parcels: list[Parcel], lang: str) -> dict[int, str]:
    """Each parcel's cold and to-pay marks, in words."""
    words = Words(lang)
    marks: dict[int, str] = {}
    for p in parcels:
        said = []
        if p.cold is not None:
            said.append(words("courier_mark_cold", kind=words("cold_" + p.cold.value)))
        if p.amount_due_cents:
            money = amounts.shown(p.amount_due_cents, p.currency, lang)
            said.append(words("courier_mark_due", amount=money))
        marks[p.id or 0] = " · ".join(said)
    return marks


@router.get("/announced", response_class=HTMLResponse)
def announced(request: Request, ctx: Ctx, who: CourierUser) -> HTMLResponse:
    """The parcels announced for the courier's carrier, each to deposit with one tap."""
    found = _announced(ctx, who)
    return render(
        request,
        "courier_announced.html",
        parcels=found,
        marks=_marks(found, language(request)),
        carrier=who.carrier,
    )


@router.get("/announced/match", response_class=HTMLResponse)
def announced_match(
    request: Request,
    ctx: Ctx,
    who: CourierUser,
    tracking_number: Annotated[str, Query(max_length=254)] = "",
) -> HTMLResponse:
    """What a scanned or typed tracking number is, if it was announced: that parcel, to
    deposit as announced (nothing else to type); empty for an unknown one."""
    typed = tracking_number.strip()
    found = _announced(ctx, who, typed) if typed else []
    if not found:
        return HTMLResponse("")
    return render(
        request,
        "courier_announced_match.html",
        parcel=found[0],
        marks=_marks(found, language(request)),
    )
