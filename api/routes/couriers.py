"""Couriers: announce, deposit (the station picks and opens a compartment), confirm the
door is closed, report a door that would not open, and take expired parcels back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from sqlmodel import Session

from api.openapi_errors import problem_responses
from api.problems import ProblemError
from api.schemas import MAX_ID, AnnounceIn, ConfirmOut, DepositIn, DepositOut, ParcelIn, ParcelOut
from api.security import Courier, CourierOrStaff, Ctx
from api.views import code_out, door_out, parcel_out
from locker.errors import InvalidTransition, NotFound
from locker.payments import amounts
from locker.people.identity import Principal
from locker.services import beside, deposit, intake, staff
from locker.services.doors import UNCERTAIN, DoorResult
from locker.services.intake import Stored
from locker.station import Station, get_parcel
from locker.store.queries import waiting_for_couriers
from locker.store.tables import Parcel
from locker.types import ColdKind, DoorPurpose, ParcelState, Role

# Unknown or other carriers' parcels, a state that forbids the step, a door that did not open.
router = APIRouter(prefix="/api/v1", tags=["couriers"], responses=problem_responses(404, 409, 503))
ParcelId = Annotated[int, Path(ge=1, le=MAX_ID)]
HANDOVER_WAIT_S = 1.0
UNKNOWN_STORED = (
    "Stored for a recipient not in the directory: no code yet. Staff assign it to a person, "
    "who is told then, or send it back."
)


def _input(body: ParcelIn, carrier: str) -> intake.ParcelInput:
    dims = body.dimensions
    return intake.ParcelInput(
        carrier=carrier,
        tracking_number=body.tracking_number,
        recipient_name=body.recipient_name,
        recipient_phone=body.recipient_phone,
        recipient_email=body.recipient_email,
        size=body.size,
        dimensions_mm=(dims.width_mm, dims.height_mm, dims.depth_mm) if dims else None,
        needs_accessible=body.needs_accessible,
        cold=body.cold or (ColdKind.CHILLED if body.needs_cooling else None),
        recipient_language=body.recipient_language,
        recipient_id=body.recipient_id,
        recipient_unknown=body.recipient_unknown,
        amount_due_cents=amounts.cents(body.amount_due),
    )


def _seen_by(who: Principal, parcel: Parcel) -> ParcelOut:
    """The parcel as this caller may see it: a courier never sees the contact of a person
    from the directory (their carrier's label has what the carrier needs)."""
    out = parcel_out(parcel)
    if who.role is Role.COURIER and parcel.recipient_id is not None:
        out = out.model_copy(update={"recipient_email": None, "recipient_phone": None})
    return out


def _carrier(who: Principal) -> str:
    assert who.carrier, "courier accounts always have a carrier"
    return who.carrier


def _own_parcel(session: Session, who: Principal, parcel_id: int) -> Parcel:
    """The parcel, if this courier's carrier owns it (others look like missing ones)."""
    parcel = get_parcel(session, parcel_id)
    if who.carrier is not None and parcel.carrier != who.carrier:
        raise NotFound("parcel", parcel_id)
    return parcel


def load_parcel(station: Station, who: Principal, parcel_id: int) -> Parcel:
    with station.db.read() as session:
        return _own_parcel(session, who, parcel_id)


def door_did_not_open(ctx: Ctx, result: DoorResult, detail: str, next_step: str) -> ProblemError:
    return ProblemError(
        503,
        "door_did_not_open",
        detail,
        door=door_out(ctx.station.layout, result).model_dump(mode="json"),
        next=next_step,
    )


def _handed_over(ctx: Ctx, parcel_id: int) -> Stored | None:
    """The code the door watcher left for this parcel; it may be a moment behind its commit."""
    return ctx.handover.take(parcel_id, wait_s=HANDOVER_WAIT_S)


def open_counted(ctx: Ctx, who: Principal, parcel_id: int) -> DoorResult:
    """Open the compartment held for the parcel, counted in the metrics (API and screen)."""
    result = deposit.deposit(ctx.station, actor=who.actor, parcel_id=parcel_id)
    ctx.metrics.doors(DoorPurpose.DEPOSIT, (result,))
    return result


def parcel_input(body: ParcelIn, who: Principal) -> intake.ParcelInput:
    return _input(body, _carrier(who))


def _open_for_deposit(ctx: Ctx, who: Principal, parcel_id: int) -> DepositOut:
    station = ctx.station
    result = open_counted(ctx, who, parcel_id)
    if result.outcome in UNCERTAIN:
        raise door_did_not_open(
            ctx,
            result,
            f"The station could not tell whether compartment {result.compartment_id} opened;"
            " it is marked faulty for staff.",
            f"If it is open, put the parcel in, close it and POST /api/v1/parcels/{parcel_id}"
            f"/confirm; if it is shut, POST /api/v1/parcels/{parcel_id}/door-stuck for another.",
        )
    if not result.opened:
        raise door_did_not_open(
            ctx,
            result,
            f"Compartment {result.compartment_id} did not open; it is marked faulty.",
            f"Ask for another compartment: POST /api/v1/parcels/{parcel_id}/deposit",
        )
    return DepositOut(
        parcel=_seen_by(who, load_parcel(station, who, parcel_id)),
        door=door_out(station.layout, result),
        next=(
            f"Put the parcel into compartment {result.compartment_id}, close the door, then "
            f"POST /api/v1/parcels/{parcel_id}/confirm"
        ),
    )


@router.post("/parcels", status_code=status.HTTP_201_CREATED)
def announce(body: AnnounceIn, who: Courier, ctx: Ctx) -> ParcelOut:
    """Register a parcel before it arrives; with ``reserve`` a compartment is held for it."""
    data = _input(body, _carrier(who))
    if body.reserve:
        held = reserve_for(ctx, who, data, fits_beside=body.fits_beside)
        pid = held.parcel_id
    else:
        pid = deposit.announce(ctx.station, actor=who.actor, parcel=data)
    return _seen_by(who, load_parcel(ctx.station, who, pid))


@router.post("/deposits", status_code=status.HTTP_201_CREATED)
def deposit_parcel(body: DepositIn, who: Courier, ctx: Ctx) -> DepositOut:
    """The station picks the best free compartment for the parcel and opens it."""
    station = ctx.station
    if body.parcel is not None:
        data = _input(body.parcel, _carrier(who))
        held = reserve_for(ctx, who, data, fits_beside=body.fits_beside)
        return _open_for_deposit(ctx, who, held.parcel_id)
    assert body.parcel_id is not None
    if (
        body.fits_beside
        and load_parcel(station, who, body.parcel_id).state is ParcelState.ANNOUNCED
    ):
        beside.reserve_beside(station, actor=who.actor, parcel_id=body.parcel_id)
    return deposit_announced(body.parcel_id, who, ctx)


def reserve_for(
    ctx: Ctx, who: Principal, data: intake.ParcelInput, *, fits_beside: bool
) -> intake.Reservation:
    """Hold a compartment for a new parcel: with the courier's word that it fits beside the
    recipient's waiting parcel, that one's compartment if there is one (issue 17)."""
    with ctx.station.db.read() as session:  # announced before: that parcel, not a new one
        known = intake.announced_parcel(session, data.carrier, data.tracking_number)
    if fits_beside:
        held = (
            beside.reserve_beside(ctx.station, actor=who.actor, parcel=data)
            if known is None
            else beside.reserve_beside(ctx.station, actor=who.actor, parcel_id=known)
        )
        if held is not None:
            return held
    if known is not None:
        return deposit.reserve(ctx.station, actor=who.actor, parcel_id=known)
    return deposit.reserve(ctx.station, actor=who.actor, parcel=data)


@router.post("/parcels/{parcel_id}/reserve")
def reserve(parcel_id: ParcelId, who: Courier, ctx: Ctx) -> ParcelOut:
    """Hold a compartment for an announced parcel."""
    load_parcel(ctx.station, who, parcel_id)
    deposit.reserve(ctx.station, actor=who.actor, parcel_id=parcel_id)
    return _seen_by(who, load_parcel(ctx.station, who, parcel_id))


@router.post("/parcels/{parcel_id}/deposit")
def deposit_announced(parcel_id: ParcelId, who: Courier, ctx: Ctx) -> DepositOut:
    """Open the compartment held for the parcel (holding one first if need be)."""
    if load_parcel(ctx.station, who, parcel_id).state is ParcelState.ANNOUNCED:
        deposit.reserve(ctx.station, actor=who.actor, parcel_id=parcel_id)
    return _open_for_deposit(ctx, who, parcel_id)


@router.post("/parcels/{parcel_id}/door-stuck")
def door_stuck(parcel_id: ParcelId, who: Courier, ctx: Ctx) -> DepositOut:
    """The door of the deposit would not open (though the board said it did): that
    compartment is marked faulty and another one opens."""
    load_parcel(ctx.station, who, parcel_id)
    deposit.report_stuck_door(ctx.station, actor=who.actor, parcel_id=parcel_id)
    deposit.reserve(ctx.station, actor=who.actor, parcel_id=parcel_id)
    return _open_for_deposit(ctx, who, parcel_id)


@router.post("/parcels/{parcel_id}/confirm")
def confirm(parcel_id: ParcelId, who: Courier, ctx: Ctx) -> ConfirmOut:
    """The courier closed the door: the station checks it and stores the parcel.

    The answer carries the pickup code once, for the carrier to pass on.
    """
    station = ctx.station
    load_parcel(station, who, parcel_id)  # another carrier's parcel looks like a missing one
    try:
        stored = deposit.confirm_stored(station, parcel_id=parcel_id, actor=who.actor)
    except InvalidTransition:
        parcel = load_parcel(station, who, parcel_id)
        if parcel.state is not ParcelState.STORED:
            raise
        waiting = _handed_over(ctx, parcel_id)  # the door watcher stored it first
        if parcel.recipient_unknown:
            return ConfirmOut(parcel=_seen_by(who, parcel), code=None, detail=UNKNOWN_STORED)
        return ConfirmOut(
            parcel=_seen_by(who, parcel),
            code=code_out(waiting) if waiting else None,
            detail="Stored." if waiting else "Stored; its code was handed over already.",
        )
    parcel = load_parcel(station, who, parcel_id)
    return ConfirmOut(
        parcel=_seen_by(who, parcel),
        code=code_out(stored),
        detail=UNKNOWN_STORED
        if parcel.recipient_unknown
        else "Stored. Give the recipient the code.",
    )


@router.get("/parcels/{parcel_id}")
def get_one(parcel_id: ParcelId, who: CourierOrStaff, ctx: Ctx) -> ParcelOut:
    """One parcel (couriers see only their carrier's)."""
    return _seen_by(who, load_parcel(ctx.station, who, parcel_id))


@router.get("/returns")
def returns(who: CourierOrStaff, ctx: Ctx) -> list[ParcelOut]:
    """Parcels waiting to be taken back (couriers: their carrier's): expired deliveries
    and the returns customers dropped off."""
    with ctx.station.db.read() as session:
        return [_seen_by(who, p) for p in waiting_for_couriers(session, who.carrier)]


@router.post("/parcels/{parcel_id}/take-back")
def take_back(parcel_id: ParcelId, who: Courier, ctx: Ctx) -> DepositOut:
    """Open an expired parcel's compartment for the courier; the parcel is returned."""
    load_parcel(ctx.station, who, parcel_id)
    result = staff.take_back(ctx.station, actor=who.actor, parcel_id=parcel_id)
    ctx.metrics.doors(DoorPurpose.TAKE_BACK, (result,))
    if not result.opened:
        raise door_did_not_open(
            ctx,
            result,
            f"Compartment {result.compartment_id} did not open; staff have been alerted.",
            "The parcel stays expired; try again later or ask the shop's staff to open it.",
        )
    return DepositOut(
        parcel=_seen_by(who, load_parcel(ctx.station, who, parcel_id)),
        door=door_out(ctx.station.layout, result),
        next=f"Take the parcel out of compartment {result.compartment_id} and close the door.",
    )
