"""New pickup codes from the maintenance screen, on a parcel's row and on a compartment's
panel: "send the code again" (a new one goes to the recipient by the station's channels,
mail when a mail server is set; staff never see it) and "make a new code" (shown once to
staff, to hand over). The old code stops working either way; both are audited
(``code.resent``, ``code.reissued``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.routes.staff import send_code_again
from api.screens.i18n import Words
from api.screens.render import language, render
from api.screens.staff import (
    EXTEND_DAYS,
    HOME,
    CompartmentNo,
    Outcome,
    ParcelId,
    StaffUser,
)
from api.screens.staff import _acted as acted
from api.screens.staff import _views as compartment_views
from api.security import Ctx
from locker.errors import DomainError, NotFound
from locker.people.identity import Principal
from locker.services import staff
from locker.station import get_parcel

router = APIRouter(prefix=HOME, include_in_schema=False)


def new_code(
    ctx: Ctx, who: StaffUser, parcel_id: int, words: Words, *, send: bool
) -> tuple[str, str]:
    """Send the recipient a new code, or make one for staff to hand over (shown once);
    the old one stops working either way. What to say, and the PIN to show (or "")."""
    if send:
        sent_by = send_code_again(ctx, who, parcel_id)
        return words("staff_code_sent", to=", ".join(sent_by)), ""
    made = staff.reissue_code(ctx.station, actor=who.actor, parcel_id=parcel_id)
    assert made.code is not None  # a reissued code is always a code
    return words("staff_code_made"), made.code.pin


def _code_row(
    request: Request, ctx: Ctx, who: StaffUser, parcel_id: int, *, send: bool
) -> HTMLResponse:
    words = Words(language(request))
    try:
        said, pin = new_code(ctx, who, parcel_id, words, send=send)
        with ctx.station.db.read() as session:
            parcel = get_parcel(session, parcel_id)
    except DomainError as exc:
        said = words.problem(exc)
        return render(request, "staff_said.html", status=exc.status, said=said, good=False)
    return render(
        request, "staff_parcel_row.html", p=parcel, said=said, pin=pin, extend_days=EXTEND_DAYS
    )


@router.post("/parcels/{parcel_id}/code/send", response_class=HTMLResponse)
def send_code(parcel_id: ParcelId, request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    """Send the code again: a new one to the recipient (by mail when a mail server is set)."""
    return _code_row(request, ctx, who, parcel_id, send=True)


@router.post("/parcels/{parcel_id}/code", response_class=HTMLResponse)
def make_code(parcel_id: ParcelId, request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    """Make a new code, shown once to staff to hand over; the old one stops working."""
    return _code_row(request, ctx, who, parcel_id, send=False)


def _panel_code(
    compartment_id: int, request: Request, ctx: Ctx, who: Principal, *, send: bool
) -> HTMLResponse:
    """The compartment's parcel gets a new code: sent to the recipient, or shown once."""
    pin: list[str] = []

    def act(words: Words) -> Outcome:
        view = next((v for v in compartment_views(ctx) if v.spec.id == compartment_id), None)
        if view is None or view.parcel_id is None:
            raise NotFound("parcel in compartment", compartment_id)
        said, made = new_code(ctx, who, view.parcel_id, words, send=send)
        if made:
            pin.append(made)
        return 200, said, True

    return acted(request, ctx, compartment_id, act, pin)


@router.post("/compartments/{compartment_id}/code/send", response_class=HTMLResponse)
def send_panel_code(
    compartment_id: CompartmentNo, request: Request, ctx: Ctx, who: StaffUser
) -> HTMLResponse:
    """Send the code again (a new one, to the recipient, by the station's channels)."""
    return _panel_code(compartment_id, request, ctx, who, send=True)


@router.post("/compartments/{compartment_id}/code", response_class=HTMLResponse)
def make_panel_code(
    compartment_id: CompartmentNo, request: Request, ctx: Ctx, who: StaffUser
) -> HTMLResponse:
    """Make a new code for the compartment's parcel, shown once to hand over."""
    return _panel_code(compartment_id, request, ctx, who, send=False)
