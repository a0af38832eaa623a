"""The directory: staff keep the people the station knows (list and search, add, read,
change, CSV import and export) and settle parcels stored for nobody found (assign to a
person, or send back); couriers search it for the person on a label."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.openapi_errors import problem_responses
from api.problems import ProblemError
from api.schemas import MAX_ID, ParcelOut
from api.schemas_directory import AssignIn, ImportOut, RecipientIn, RecipientMatchOut, RecipientOut
from api.security import CourierOrStaff, Ctx, Staff
from api.views import parcel_out
from locker.people import directory, directory_csv, directory_search
from locker.people.directory_csv import CsvRejected
from locker.people.person import Person, RecipientInvalid
from locker.services import recipients
from locker.station import get_parcel
from locker.store.tables import Recipient

MAX_CSV_BYTES = 2 * 1024 * 1024  # api.body_limit lets an import's body be this large
RecipientId = Annotated[int, Path(ge=1, le=MAX_ID)]
ParcelId = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=500)]

# One router, the role's tag on each route (the fuzzing signs in by the tag).
router = APIRouter(prefix="/api/v1", responses=problem_responses(404, 409, 422))
STAFF_TAG: list[str | Enum] = ["staff"]


def recipient_out(row: Recipient) -> RecipientOut:
    assert row.id is not None
    return RecipientOut(
        id=row.id,
        name=row.name,
        unit=row.unit,
        email=row.email,
        phone=row.phone,
        language=row.language,
        needs_accessible=row.needs_accessible,
        notify_by=row.notify_by,
        staff_note=row.staff_note,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def invalid(exc: RecipientInvalid) -> ProblemError:
    """``422 recipient_invalid`` with every field's problem."""
    return ProblemError(
        422,
        exc.code,
        exc.message,
        errors=[{"where": p.field, "problem": p.message} for p in exc.problems],
    )


def rejected(exc: CsvRejected) -> ProblemError:
    """``422 csv_rejected``: nothing was imported; ``rows`` names every bad line and why."""
    rows: list[dict[str, Any]] = [
        {
            "line": row.line,
            "errors": [{"where": p.field, "problem": p.message} for p in row.problems],
        }
        for row in exc.rows
    ]
    return ProblemError(422, exc.code, exc.message, rows=rows)


def person_of(body: RecipientIn) -> Person:
    return Person(
        name=body.name,
        unit=body.unit,
        email=body.email,
        phone=body.phone,
        language=body.language,
        needs_accessible=body.needs_accessible,
        notify_by=body.notify_by,
        staff_note=body.staff_note,
    )


@router.get("/recipients", tags=STAFF_TAG)
def list_recipients(
    who: Staff,
    ctx: Ctx,
    q: Annotated[
        str | None, Query(max_length=200, description="part of a name or a flat number")
    ] = None,
    limit: Limit = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[RecipientOut]:
    """The directory by name; with ``q``, the best matches of the tolerant search."""
    found = directory.listing(ctx.station, q or "", limit=limit, offset=offset)
    return [recipient_out(r) for r in found]


@router.post("/recipients", tags=STAFF_TAG, status_code=status.HTTP_201_CREATED)
def create_recipient(body: RecipientIn, who: Staff, ctx: Ctx) -> RecipientOut:
    """Add a person (``422 recipient_invalid`` names each field that does not pass)."""
    try:
        return recipient_out(directory.create(ctx.station, person_of(body), actor=who.actor))
    except RecipientInvalid as exc:
        raise invalid(exc) from None


CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "a header naming the columns ("
        + ", ".join(directory_csv.CSV_COLUMNS)
        + "; 'name' is needed), then one person a line; ',' or ';' between cells",
    }
}


@router.post("/recipients/import", tags=STAFF_TAG, openapi_extra=CSV_BODY)
async def import_recipients(request: Request, who: Staff, ctx: Ctx) -> ImportOut:
    """Add (no ``id``) or change (the ``id`` of an export) everybody in a CSV file, all or
    nothing: with any bad row nothing is imported and ``422 csv_rejected`` lists every
    bad line with its reasons."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProblemError(422, "csv_rejected", "the file is not UTF-8 text", rows=[]) from None
    try:
        report = await run_in_threadpool(
            directory_csv.import_csv, ctx.station, text, actor=who.actor
        )
    except CsvRejected as exc:
        raise rejected(exc) from None
    return ImportOut(created=report.created, updated=report.updated)


@router.get(
    "/recipients/export",
    tags=STAFF_TAG,
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_recipients(who: Staff, ctx: Ctx) -> Response:
    """Everybody as CSV (the columns the import takes back)."""
    return Response(
        directory_csv.export_csv(ctx.station),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="directory.csv"'},
    )


@router.get("/recipients/{recipient_id}", tags=STAFF_TAG)
def get_recipient(recipient_id: RecipientId, who: Staff, ctx: Ctx) -> RecipientOut:
    return recipient_out(directory.get(ctx.station, recipient_id))


@router.put("/recipients/{recipient_id}", tags=STAFF_TAG)
def update_recipient(
    recipient_id: RecipientId, body: RecipientIn, who: Staff, ctx: Ctx
) -> RecipientOut:
    """Change a person (every field; parcels already stored keep what they were given)."""
    try:
        row = directory.update(ctx.station, recipient_id, person_of(body), actor=who.actor)
    except RecipientInvalid as exc:
        raise invalid(exc) from None
    return recipient_out(row)


def _parcel(ctx: Ctx, parcel_id: int) -> ParcelOut:
    with ctx.station.db.read() as session:
        return parcel_out(get_parcel(session, parcel_id))


@router.post("/parcels/{parcel_id}/assign", tags=STAFF_TAG)
def assign(parcel_id: ParcelId, body: AssignIn, who: Staff, ctx: Ctx) -> ParcelOut:
    """A parcel stored for nobody found is for this person: they are told now (the
    pickup code's message goes out), with the full pickup period from now."""
    recipients.assign(
        ctx.station, actor=who.actor, parcel_id=parcel_id, recipient_id=body.recipient_id
    )
    return _parcel(ctx, parcel_id)


@router.post("/parcels/{parcel_id}/send-back", tags=STAFF_TAG)
def send_back(parcel_id: ParcelId, who: Staff, ctx: Ctx) -> ParcelOut:
    """A parcel stored for nobody found goes back: it expires now and waits for its
    carrier's courier (``GET /returns``, ``POST /parcels/{id}/take-back``); nobody is told."""
    recipients.send_back(ctx.station, actor=who.actor, parcel_id=parcel_id)
    return _parcel(ctx, parcel_id)


@router.get("/directory/search", tags=["couriers"])
def search(
    who: CourierOrStaff,
    ctx: Ctx,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=500,
            description="part of a name or a flat number, or a label's scanned text",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=10)] = directory_search.MATCHES,
) -> list[RecipientMatchOut]:
    """The best few people for what the courier typed or scanned (misspelt, umlauts spelt
    out, any word order), best first: only a name, a flat number and the id to deposit
    with (``recipient_id``). None fits: deposit with ``recipient_unknown``."""
    return [
        RecipientMatchOut(id=m.recipient_id, name=m.name, unit=m.unit)
        for m in directory_search.search(ctx.station, q, limit=limit)
    ]
