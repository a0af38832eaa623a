"""Staff: every compartment and parcel, doors, service state, deadlines, codes, the audit
log, alerts and the health of the lock-board buses."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from api.openapi_errors import problem_responses
from api.routes.couriers import door_did_not_open
from api.schemas import (
    MAX_ID,
    AlertOut,
    AuditOut,
    CodeOut,
    CodeSentOut,
    CompartmentDetailOut,
    CompartmentOut,
    DoorOpenIn,
    DoorOut,
    ExtendIn,
    Moment,
    NoteIn,
    OpenAllDoorOut,
    OpenAllIn,
    OpenAllOut,
    ParcelOut,
    PlainText,
    ReasonIn,
)
from api.schemas_system import BoardHealthOut, BusHealthOut
from api.security import Admin, Ctx, Staff, client_address
from api.views import alert_out, audit_out, code_out, compartment_out, door_out, parcel_out
from locker.alerts import open_alerts
from locker.errors import NoChannel, NotFound, ReasonRequired
from locker.notify.notifier import recipient_channels
from locker.people import sign_in
from locker.people.identity import Principal
from locker.services import deadlines, staff
from locker.services.doors import DoorResult
from locker.station import get_parcel
from locker.store import queries
from locker.store.tables import Parcel
from locker.types import CompartmentState, DoorPurpose, ParcelState, Role, SizeClass

router = APIRouter(prefix="/api/v1", tags=["staff"], responses=problem_responses(404, 409, 503))
CompartmentNo = Annotated[int, Path(ge=1, le=MAX_ID)]
ParcelId = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=queries.MAX_PAGE)]


def open_counted(
    ctx: Ctx,
    who: Principal,
    compartment_id: int,
    *,
    reason: str,
    second: tuple[str, str] | None,
    client: str,
) -> DoorResult:
    """A staff opening (API and screen): the reason first, then a second staff member's
    name and password if given, then the opening itself, counted in the metrics."""
    if not reason.strip():
        raise ReasonRequired("say why the door is opened: the reason goes to the audit log")
    confirmed_by = None
    if second is not None:
        name, password = second
        confirmed_by = sign_in.confirm_second_staff(
            ctx.station, who, name=name, password=password, client=client
        ).actor
    result = staff.open_door(
        ctx.station,
        actor=who.actor,
        compartment_id=compartment_id,
        reason=reason,
        by_admin=who.role is Role.ADMIN,
        confirmed_by=confirmed_by,
    )
    ctx.metrics.doors(DoorPurpose.STAFF, (result,))
    return result


def open_all_door_out(door: staff.OpenAllDoor) -> OpenAllDoorOut:
    if door.outcome is None:
        return OpenAllDoorOut(
            compartment_id=door.compartment_id, result="skipped", detail=door.skipped
        )
    return OpenAllDoorOut(
        compartment_id=door.compartment_id,
        result="opened" if door.opened else "not_opened",
        detail=door.outcome.value,
    )


def _compartment(ctx: Ctx, compartment_id: int) -> CompartmentOut:
    with ctx.station.db.read() as session:
        views = queries.compartments(session, ctx.station.layout)
    for view in views:
        if view.spec.id == compartment_id:
            return compartment_out(ctx.station.layout, view)
    raise NotFound("compartment", compartment_id)


@router.get("/compartments")
def list_compartments(
    who: Staff,
    ctx: Ctx,
    state: CompartmentState | None = None,
    size: SizeClass | None = None,
) -> list[CompartmentOut]:
    """Every compartment with its state, in layout order."""
    with ctx.station.db.read() as session:
        views = queries.compartments(session, ctx.station.layout)
    return [
        compartment_out(ctx.station.layout, v)
        for v in views
        if (state is None or v.state is state) and (size is None or v.spec.size is size)
    ]


@router.get("/compartments/{compartment_id}")
def compartment_detail(compartment_id: CompartmentNo, who: Staff, ctx: Ctx) -> CompartmentDetailOut:
    """One compartment: its parcel, its recent history and its open alerts."""
    out = _compartment(ctx, compartment_id)
    with ctx.station.db.read() as session:
        parcel = get_parcel(session, out.parcel_id) if out.parcel_id else None
        history = queries.audit(
            session, queries.AuditFilter(compartment_id=compartment_id, limit=50)
        )
        alerts = [a for a in open_alerts(session) if a.compartment_id == compartment_id]
    return CompartmentDetailOut(
        compartment=out,
        parcel=parcel_out(parcel) if parcel else None,
        history=[audit_out(e) for e in history],
        alerts=[alert_out(a) for a in alerts],
    )


@router.post("/compartments/open-all", responses=problem_responses(403, 422))
def open_all(body: OpenAllIn, who: Admin, ctx: Ctx) -> OpenAllOut:
    """Admins only: open every door in service one after another (e.g. for cleaning);
    doors out of service, at fault or busy are skipped. Audited as one ``open_all``."""
    results = staff.open_all(ctx.station, actor=who.actor, reason=body.reason)
    tried = tuple(DoorResult(r.compartment_id, r.outcome) for r in results if r.outcome is not None)
    ctx.metrics.doors(DoorPurpose.OPEN_ALL, tried)
    out = [open_all_door_out(r) for r in results]
    return OpenAllOut(
        opened=sum(1 for d in out if d.result == "opened"),
        not_opened=sum(1 for d in out if d.result == "not_opened"),
        skipped=sum(1 for d in out if d.result == "skipped"),
        doors=out,
    )


@router.post("/compartments/{compartment_id}/open", responses=problem_responses(403, 422, 429))
def open_door(
    compartment_id: CompartmentNo, body: DoorOpenIn, who: Staff, request: Request, ctx: Ctx
) -> DoorOut:
    """Open any door; the reason goes to the audit log. What is inside stays as it is.

    Past the station's limit of staff openings in its window (LOCKER_STAFF_OPEN_LIMIT,
    LOCKER_STAFF_OPEN_WINDOW_S) a staff member needs ``second_staff`` to confirm; an admin
    does not."""
    _compartment(ctx, compartment_id)
    result = open_counted(
        ctx,
        who,
        compartment_id,
        reason=body.reason,
        second=(body.second_staff.name, body.second_staff.password) if body.second_staff else None,
        client=client_address(request),
    )
    if not result.opened:
        raise door_did_not_open(
            ctx,
            result,
            f"Compartment {compartment_id} did not open; it is marked faulty.",
            "Check the lock and its wiring, then clear the fault.",
        )
    return door_out(ctx.station.layout, result)


@router.post("/compartments/{compartment_id}/out-of-service")
def out_of_service(
    compartment_id: CompartmentNo, body: ReasonIn, who: Staff, ctx: Ctx
) -> CompartmentOut:
    """Take a compartment out of service (a parcel inside stays collectable)."""
    staff.set_out_of_service(
        ctx.station, actor=who.actor, compartment_id=compartment_id, reason=body.reason
    )
    return _compartment(ctx, compartment_id)


@router.post("/compartments/{compartment_id}/clear-fault")
def clear_fault(
    compartment_id: CompartmentNo, body: NoteIn, who: Staff, ctx: Ctx
) -> CompartmentOut:
    """Put a faulty or out-of-service compartment back into service."""
    staff.clear_fault(ctx.station, actor=who.actor, compartment_id=compartment_id, note=body.note)
    return _compartment(ctx, compartment_id)


@router.get("/parcels")
def list_parcels(
    who: Staff,
    ctx: Ctx,
    state: Annotated[list[ParcelState] | None, Query()] = None,
    carrier: PlainText | None = None,
    compartment: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    q: Annotated[
        PlainText | None, Query(max_length=100, description="tracking number or name")
    ] = None,
    overdue: bool = False,
    limit: Limit = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[ParcelOut]:
    """Parcels, newest first, with filters."""
    where = queries.ParcelFilter(
        states=tuple(state or ()),
        carrier=carrier,
        compartment_id=compartment,
        text=q,
        overdue_at=ctx.station.now() if overdue else None,
        limit=limit,
        offset=offset,
    )
    with ctx.station.db.read() as session:
        return [parcel_out(p) for p in queries.parcels(session, where)]


@router.post("/parcels/{parcel_id}/extend")
def extend(parcel_id: ParcelId, body: ExtendIn, who: Staff, ctx: Ctx) -> ParcelOut:
    """Give the recipient more time; an expired parcel becomes collectable again."""
    until: datetime
    if body.until is not None:
        until = body.until
    else:
        assert body.days is not None
        with ctx.station.db.read() as session:
            parcel = get_parcel(session, parcel_id)
        base = max(parcel.deadline or ctx.station.now(), ctx.station.now())
        until = base + timedelta(days=body.days)
    deadlines.extend_deadline(ctx.station, actor=who.actor, parcel_id=parcel_id, until=until)
    return _parcel(ctx, parcel_id)


@router.post("/parcels/{parcel_id}/code")
def reissue_code(parcel_id: ParcelId, who: Staff, ctx: Ctx) -> CodeOut:
    """A new pickup code for a stored parcel (to reprint a lost one); old ones stop working."""
    out = code_out(staff.reissue_code(ctx.station, actor=who.actor, parcel_id=parcel_id))
    assert out is not None  # a reissued code is always a code
    return out


def send_code_again(ctx: Ctx, who: Principal, parcel_id: int) -> list[str]:
    """A new code sent to the recipient by the station's channels (mail when a mail
    server is set); the old code stops working and staff never see the new one. Refused
    (``no_channel``) when the recipient cannot be reached: make a new code instead."""
    with ctx.station.db.read() as session:
        parcel = get_parcel(session, parcel_id)
    channels = recipient_channels(ctx.notifier.config, parcel)
    if not channels:
        raise NoChannel(
            f"parcel {parcel_id}'s recipient cannot be sent a code here (no mail server is "
            "set, or no address): make a new code and hand it over"
        )
    staff.reissue_code(ctx.station, actor=who.actor, parcel_id=parcel_id, action="code.resent")
    return channels


@router.post("/parcels/{parcel_id}/code/send", status_code=202)
def send_code(parcel_id: ParcelId, who: Staff, ctx: Ctx) -> CodeSentOut:
    """Send the recipient a new code (the old one stops working), by mail when a mail
    server is set (or the shop's text message webhook); staff do not see it."""
    sent_by = send_code_again(ctx, who, parcel_id)
    return CodeSentOut(
        parcel_id=parcel_id,
        sent_by=sent_by,
        detail=f"A new code goes to the recipient by {' and '.join(sent_by)}; "
        "the old one no longer opens the door.",
    )


def _parcel(ctx: Ctx, parcel_id: int) -> ParcelOut:
    with ctx.station.db.read() as session:
        parcel: Parcel = get_parcel(session, parcel_id)
    return parcel_out(parcel)


@router.get("/audit")
def audit(
    who: Staff,
    ctx: Ctx,
    action: Annotated[
        PlainText | None, Query(max_length=64, description="prefix, e.g. door.")
    ] = None,
    actor: Annotated[PlainText | None, Query(max_length=200)] = None,
    parcel: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    compartment: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="entries older than this id")
    ] = None,
    limit: Limit = 100,
) -> list[AuditOut]:
    """The audit log, newest first."""
    where = queries.AuditFilter(
        action_prefix=action,
        actor=actor,
        parcel_id=parcel,
        compartment_id=compartment,
        since=since,
        until=until,
        before_id=before,
        limit=limit,
    )
    with ctx.station.db.read() as session:
        return [audit_out(e) for e in queries.audit(session, where)]


@router.get("/alerts")
def alerts(who: Staff, ctx: Ctx) -> list[AlertOut]:
    """Open alerts: doors left open, doors that did not open."""
    with ctx.station.db.read() as session:
        return [alert_out(a) for a in open_alerts(session)]


@router.get("/health/buses")
def bus_health(who: Staff, ctx: Ctx) -> list[BusHealthOut]:
    """Traffic and error counters of every lock-board bus since the station started, and
    per board how its failed reads ended (silence, torn frame, bad checksum)."""
    boards = ctx.board_health()
    return [
        BusHealthOut(
            bus=bus,
            counters=dict(counters),
            boards=[BoardHealthOut.model_validate(b) for b in boards.get(bus, ())],
        )
        for bus, counters in sorted(ctx.bus_health().items())
    ]
