"""The simulator's screen (only on a simulated station): every door drawn; open or close
one, put a parcel in or take it out, inject a fault, so a newcomer sees the whole
station work with ``make run`` alone. Its actions are the /api/v1/sim hands, and like
them only for staff: the page tells anyone else to sign in on the maintenance screen."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from api.problems import ProblemError
from api.schemas import MAX_ID
from api.screens.i18n import Words
from api.screens.render import doors, language, render
from api.screens.sessions import screen_role, signed_out, visitor
from api.screens.sim_sensors import LIVE_S as SENSORS_LIVE_S
from api.screens.sim_sensors import sensors_panel
from api.security import Ctx
from locker.people.identity import Principal
from locker.types import Role
from sim.faults import Fault
from sim.model import LockState
from sim.station import SimStation

HOME = "/sim"
router = APIRouter(prefix=HOME, include_in_schema=False)
StaffUser = Annotated[Principal, Depends(screen_role(HOME, Role.STAFF))]
CompartmentNo = Annotated[int, Path(ge=1, le=MAX_ID)]
Hand = Literal["open", "close", "put", "take"]
LIVE_S = 1


def _sim(ctx: Ctx, compartment_id: int | None = None) -> SimStation:
    if ctx.sim is None:
        raise ProblemError(404, "not_found", "This station runs on real boards.")
    known = {c.id for c in ctx.station.layout.compartments}
    if compartment_id is not None and compartment_id not in known:
        raise ProblemError(
            404, "compartment_not_found", f"compartment {compartment_id} does not exist"
        )
    return ctx.sim


def _front(request: Request, ctx: Ctx) -> dict[str, Any]:
    sim = _sim(ctx)
    words = Words(language(request))
    css: dict[int, str] = {}
    labels: dict[int, str] = {}
    for spec in ctx.station.layout.compartments:
        state = sim.state(spec.id)
        css[spec.id] = " ".join(
            c
            for c in (
                "sim-latched" if state.latched else "sim-unlatched",
                "door-open" if state.door_open else "",
                "has-item" if state.item else "",
            )
            if c
        )
        labels[spec.id] = ", ".join(
            (
                words("compartment_n", n=spec.id),
                words("sim_open" if state.door_open else "sim_closed"),
                words("sim_latched" if state.latched else "sim_unlatched"),
                words("sim_item" if state.item else "sim_no_item"),
            )
        )
    return {"doors": doors(ctx.station.layout, css, labels), "live_s": LIVE_S}


def _cannot(state: LockState) -> dict[str, str]:
    """Why each hand cannot act on the door as it is (the words' key; "" where it can)."""
    closed = "sim_why_closed"
    return {
        "open": "sim_why_open" if state.door_open else "sim_why_latched" if state.latched else "",
        "put": closed if not state.door_open else "sim_why_full" if state.item else "",
        "take": closed if not state.door_open else "sim_why_empty" if not state.item else "",
        "close": "" if state.door_open else "sim_why_shut",
    }


def _door(request: Request, ctx: Ctx, compartment_id: int, said: str = "") -> HTMLResponse:
    sim = _sim(ctx, compartment_id)
    state = sim.state(compartment_id)
    return render(
        request,
        "sim_door.html",
        n=compartment_id,
        state=state,
        cannot=_cannot(state),
        pulses=sim.pulses(compartment_id),
        faults=[f.value for f in Fault],
        active=[f.value for f in sim.faults(compartment_id)],
        said=said,
        live_s=LIVE_S,
    )


@router.get("", response_class=HTMLResponse)
def page(
    request: Request, ctx: Ctx, who: Annotated[Principal | None, Depends(visitor)]
) -> HTMLResponse:
    """The doors for staff; anyone else is told the rule and sent to sign in."""
    _sim(ctx)
    if who is None or not who.has(Role.STAFF):  # signed in as someone else: it says so
        return render(request, "sim.html", who=None, other=who)
    minutes = f"{ctx.settings.cold_out_of_band_minutes:g}"
    return render(
        request,
        "sim.html",
        who=who,
        sensors=sensors_panel(ctx),
        sensors_live_s=SENSORS_LIVE_S,
        after_min=minutes,
        **_front(request, ctx),
    )


@router.post("/sign-out")
def sign_out(request: Request, ctx: Ctx, who: StaffUser) -> Response:
    """The maintenance screens' session ends (the simulator shares it); back to /sim."""
    return signed_out(request, ctx, HOME)


@router.get("/front", response_class=HTMLResponse)
def front(request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    return render(request, "sim_front.html", **_front(request, ctx))


@router.get("/compartments/{compartment_id}", response_class=HTMLResponse)
def door(compartment_id: CompartmentNo, request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    return _door(request, ctx, compartment_id)


@router.post("/compartments/{compartment_id}/fault", response_class=HTMLResponse)
def inject(
    compartment_id: CompartmentNo,
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    fault: Annotated[Fault, Form()],
) -> HTMLResponse:
    _sim(ctx, compartment_id).inject(compartment_id, fault)
    return _door(request, ctx, compartment_id)


@router.post("/compartments/{compartment_id}/repair", response_class=HTMLResponse)
def repair(
    compartment_id: CompartmentNo, request: Request, ctx: Ctx, who: StaffUser
) -> HTMLResponse:
    _sim(ctx, compartment_id).repair(compartment_id)
    return _door(request, ctx, compartment_id)


# Declared last: its {hand} would otherwise catch .../fault and .../repair.
@router.post("/compartments/{compartment_id}/{hand}", response_class=HTMLResponse)
def use(
    compartment_id: CompartmentNo, hand: Hand, request: Request, ctx: Ctx, who: StaffUser
) -> HTMLResponse:
    sim = _sim(ctx, compartment_id)
    said = ""
    if hand == "open" and sim.state(compartment_id).latched:
        said = Words(language(request))("sim_latched_cannot_open")
    {"open": sim.open, "close": sim.close, "put": sim.put, "take": sim.take}[hand](compartment_id)
    return _door(request, ctx, compartment_id, said)
