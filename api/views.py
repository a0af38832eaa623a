"""Turning the domain's values into the API's answer bodies."""

from __future__ import annotations

from api.schemas import (
    AlertOut,
    AuditOut,
    CodeOut,
    CompartmentOut,
    Dimensions,
    DoorOut,
    ParcelOut,
    Where,
)
from locker.front import locate
from locker.layout import Layout
from locker.services.doors import DoorResult
from locker.services.intake import Stored
from locker.store.queries import CompartmentView
from locker.store.tables import Alert, AuditEntry, Parcel
from locker.types import CompartmentId

QR_PNG = "/api/v1/qr.png"
QR_SVG = "/api/v1/qr.svg"


def where(layout: Layout, compartment_id: int) -> Where:
    spec = locate(layout, compartment_id)
    return Where(
        column=spec.column,
        columns=spec.columns,
        row=spec.row,
        rows=spec.rows,
        height=spec.height,
        text=spec.text,
    )


def parcel_out(parcel: Parcel) -> ParcelOut:
    assert parcel.id is not None
    dims = None
    if parcel.width_mm and parcel.height_mm and parcel.depth_mm:
        dims = Dimensions(
            width_mm=parcel.width_mm, height_mm=parcel.height_mm, depth_mm=parcel.depth_mm
        )
    return ParcelOut(
        id=parcel.id,
        state=parcel.state,
        carrier=parcel.carrier,
        tracking_number=parcel.tracking_number,
        recipient_name=parcel.recipient_name,
        recipient_email=parcel.recipient_email,
        recipient_phone=parcel.recipient_phone,
        size=parcel.size,
        dimensions=dims,
        needs_accessible=parcel.needs_accessible,
        needs_cooling=parcel.needs_cooling,
        cold=parcel.cold,
        compartment_id=parcel.compartment_id,
        courier=parcel.courier,
        created_at=parcel.created_at,
        reserved_until=parcel.reserved_until,
        stored_at=parcel.stored_at,
        deadline=parcel.deadline,
        finished_at=parcel.finished_at,
        amount_due=parcel.amount_due_cents,
        currency=parcel.currency,
        kind=parcel.kind,
        recipient_language=parcel.recipient_language,
        extensions=parcel.extensions,
        flagged=parcel.flagged,
        beside_parcel_id=parcel.beside_parcel_id,
        held_until=parcel.held_until,
        hold_days=parcel.hold_days,
        erased_at=parcel.erased_at,
        recipient_id=parcel.recipient_id,
        recipient_unknown=parcel.recipient_unknown,
        notify_by=parcel.notify_by if parcel.notify_by in ("mail", "sms", "both") else None,
    )


def compartment_out(layout: Layout, view: CompartmentView) -> CompartmentOut:
    spec = view.spec
    return CompartmentOut(
        id=spec.id,
        size=spec.size,
        width_mm=spec.width_mm,
        height_mm=spec.height_mm,
        depth_mm=spec.depth_mm,
        accessible=spec.accessible,
        cooled=spec.cooled,
        cold=spec.cold,
        cold_group=spec.cold_group,
        state=view.state,
        condition=view.condition,
        note=view.note,
        parcel_id=view.parcel_id,
        door_busy=view.door_busy,
        where=where(layout, spec.id),
    )


def door_out(layout: Layout, result: DoorResult) -> DoorOut:
    return DoorOut(
        compartment_id=result.compartment_id,
        outcome=result.outcome.value,
        opened=result.opened,
        where=where(layout, CompartmentId(result.compartment_id)),
        parcel_ids=list(result.parcel_ids),
    )


def code_out(stored: Stored) -> CodeOut | None:
    if stored.code is None:  # a return: nobody collects it with a code
        return None
    return CodeOut(
        pin=stored.code.pin,
        qr_token=stored.code.qr_token,
        expires_at=stored.deadline,
        opens_parcels=list(stored.opens or (stored.parcel_id,)),
        qr_png=QR_PNG,
        qr_svg=QR_SVG,
    )


def audit_out(entry: AuditEntry) -> AuditOut:
    assert entry.id is not None
    return AuditOut(
        id=entry.id,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        compartment_id=entry.compartment_id,
        parcel_id=entry.parcel_id,
        detail=entry.detail,
    )


def alert_out(alert: Alert) -> AlertOut:
    assert alert.id is not None
    return AlertOut(
        id=alert.id,
        kind=alert.kind.value,
        compartment_id=alert.compartment_id,
        detail=alert.detail,
        raised_at=alert.raised_at,
    )
