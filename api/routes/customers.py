"""Customers: no account, only the code. One PIN or QR token opens every parcel it was
issued for; the answer says which compartments opened and where they are."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api.context import StationContext
from api.problems import ProblemError
from api.schemas import CollectIn, CollectionOut
from api.schemas_payments import DueOut
from api.security import Ctx, client_address
from api.views import door_out
from locker.errors import CodeInvalid, TooManyAttempts
from locker.payments.amounts import shown
from locker.payments.due import PaymentRequired
from locker.services.pickup import Collection
from locker.types import DoorPurpose

router = APIRouter(prefix="/api/v1", tags=["customers"])

CALL_STAFF = "If it still does not open, call the shop's staff: the station has told them."


async def arrival() -> float:
    """When the request reached the app (resolved before the worker thread starts)."""
    return time.perf_counter()


def collect_counted(ctx: StationContext, code: str, terminal: str, t0: float) -> Collection:
    """A collection with its metrics (the API's and the kiosk screen's alike)."""
    try:
        result = ctx.money.collect(code=code, terminal=terminal)
    except CodeInvalid:
        ctx.metrics.attempts_rejected.labels("code_invalid").inc()
        raise
    except TooManyAttempts:
        ctx.metrics.attempts_rejected.labels("too_many_attempts").inc()
        raise
    if any(door.opened for door in result.doors):
        ctx.metrics.code_to_unlock.observe(time.perf_counter() - t0)
    ctx.metrics.doors(DoorPurpose.COLLECT, result.doors)
    return result


def dues_out(ctx: StationContext, owed: PaymentRequired, language: str = "en") -> list[DueOut]:
    base = ctx.settings.public_url.rstrip("/")
    return [
        DueOut(
            parcel_id=d.parcel_id,
            amount_due=d.amount_cents,
            currency=d.currency,
            amount_text=shown(d.amount_cents, d.currency, language),
            pay_url=f"{base}/pay/{d.pay_token}",
        )
        for d in owed.due
    ]


@router.post(
    "/collect",
    responses={
        402: {"description": "payment_required: what is due, and the link to pay it"},
        404: {"description": "code_invalid: unknown, used and expired codes alike"},
        429: {"description": "too_many_attempts, with Retry-After"},
        503: {"description": "door_did_not_open: no door opened; the code stays valid"},
    },
)
def collect(
    body: CollectIn, request: Request, ctx: Ctx, t0: Annotated[float, Depends(arrival)]
) -> CollectionOut:
    """Open the compartments of the parcels this PIN or QR token belongs to. While one of
    them is unpaid, nothing opens: a 402 says what is due and where to pay."""
    try:
        result = collect_counted(ctx, body.code, client_address(request), t0)
    except PaymentRequired as owed:
        raise ProblemError(
            402,
            owed.code,
            owed.message,
            due=[d.model_dump() for d in dues_out(ctx, owed)],
            next=["Pay by the link (pay_url), then enter the code again."],
        ) from owed
    layout = ctx.station.layout
    doors = [door_out(layout, door) for door in result.doors]
    opened = [d for d in doors if d.opened]
    failed = [d for d in doors if not d.opened]
    said = [f"Compartment {d.compartment_id} is open: {d.where.text}." for d in opened]
    if failed:
        ids = ", ".join(str(d.compartment_id) for d in failed)
        said.append(f"Compartment {ids} did not open.")
    next_steps = (["Take your parcel and close the door."] if opened else []) + (
        [
            "Your code stays valid for what did not open: enter it again in a minute.",
            CALL_STAFF,
        ]
        if failed
        else []
    )
    if not opened:
        raise ProblemError(
            503,
            "door_did_not_open",
            " ".join(said),
            doors=[d.model_dump(mode="json") for d in doors],
            next=next_steps,
        )
    return CollectionOut(
        doors=doors, all_opened=not failed, message=" ".join(said), next=next_steps
    )
