"""Kiosk devices (admins): pair a screen as the station's kiosk, list and unpair them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.openapi_errors import problem_responses
from api.schemas import PlainText
from api.schemas_accounts import KioskDeviceIn, KioskDeviceOut, PairedKioskOut
from api.security import Admin, Ctx
from locker.people import kiosk_devices

router = APIRouter(
    prefix="/api/v1/kiosk-devices",
    tags=["accounts"],
    responses=problem_responses(401, 403, 404, 422),
)
DeviceName = Annotated[PlainText, Path(min_length=1, max_length=40)]


@router.get("")
def list_devices(who: Admin, ctx: Ctx) -> list[KioskDeviceOut]:
    return [
        KioskDeviceOut(
            name=d.name, paired_by=d.paired_by, paired_at=d.paired_at, last_seen_at=d.last_seen_at
        )
        for d in kiosk_devices.devices(ctx.station)
    ]


@router.post("", status_code=status.HTTP_201_CREATED)
def pair_device(body: KioskDeviceIn, who: Admin, ctx: Ctx) -> PairedKioskOut:
    """Pair a kiosk (again: its old token stops working). Codes typed on it are limited
    per device, and the station-wide hourly cap of network guesses never refuses it."""
    token = kiosk_devices.pair(ctx.station, name=body.name, actor=who.actor)
    return PairedKioskOut(name=body.name, token=token)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def unpair_device(name: DeviceName, who: Admin, ctx: Ctx) -> None:
    kiosk_devices.unpair(ctx.station, name=name, actor=who.actor)
