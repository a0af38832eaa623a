"""The directory on the maintenance screen: the people the station knows (search, add,
change), CSV import with its report and export, and the parcels stored for nobody found,
to assign to a person (who is told then) or to send back."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from api.schemas import MAX_ID
from api.screens.i18n import Words
from api.screens.render import language, render
from api.screens.sessions import screen_role
from api.security import Ctx
from locker.errors import DomainError
from locker.people import directory, directory_csv, directory_search
from locker.people.directory_csv import CsvRejected
from locker.people.identity import Principal
from locker.people.person import FieldProblem, Person, RecipientInvalid
from locker.services import recipients
from locker.station import get_parcel
from locker.store.tables import Parcel, Recipient
from locker.types import ParcelState, Role

HOME = "/staff/directory"
router = APIRouter(prefix=HOME, include_in_schema=False)
StaffUser = Annotated[Principal, Depends(screen_role("/staff", Role.STAFF))]
RecipientId = Annotated[int, Path(ge=1, le=MAX_ID)]
ParcelId = Annotated[int, Path(ge=1, le=MAX_ID)]
Text = Annotated[str, Form(max_length=600)]
Search = Annotated[str, Query(max_length=200)]
SHOWN = 200  # people listed at once (the search finds the others)
CHANGED = {"HX-Trigger": "directory-changed"}  # the list reloads itself


def problem_words(words: Words, problem: FieldProblem) -> str:
    """One field's problem in the screen's language."""
    field = words(f"dir_field_{problem.field}")
    return f"{field}: {words(f'dir_problem_{problem.reason}', n=problem.n)}"


def _people(ctx: Ctx, q: str) -> list[Recipient]:
    return directory.listing(ctx.station, q, limit=SHOWN)


def _unknown_parcels(ctx: Ctx) -> list[Parcel]:
    with ctx.station.db.read() as session:
        return list(
            session.exec(
                select(Parcel)
                .where(col(Parcel.recipient_unknown).is_(True), Parcel.state == ParcelState.STORED)
                .order_by(col(Parcel.id))
            ).all()
        )


def _form(
    request: Request, *, status: int = 200, headers: dict[str, str] | None = None, **values: Any
) -> HTMLResponse:
    values.setdefault("person", None)
    values.setdefault("editing", None)
    values.setdefault("problems", [])
    return render(request, "staff_directory_form.html", status=status, headers=headers, **values)


@router.get("", response_class=HTMLResponse)
def page(request: Request, ctx: Ctx, who: StaffUser, q: Search = "") -> HTMLResponse:
    return render(
        request,
        "staff_directory.html",
        who=who,
        section="directory",
        live_s=2,
        q=q,
        people=_people(ctx, q),
        total=directory.count(ctx.station),
        unknown=_unknown_parcels(ctx),
        person=None,
        editing=None,
        problems=[],
        columns=", ".join(directory_csv.CSV_COLUMNS),
    )


@router.get("/people", response_class=HTMLResponse)
def people(request: Request, ctx: Ctx, who: StaffUser, q: Search = "") -> HTMLResponse:
    """The list alone (the search, and after every change)."""
    return render(
        request,
        "staff_directory_people.html",
        people=_people(ctx, q),
        q=q,
        total=directory.count(ctx.station),
    )


@router.get("/new", response_class=HTMLResponse)
def new(request: Request, who: StaffUser) -> HTMLResponse:
    return _form(request)


@router.get("/{recipient_id}/edit", response_class=HTMLResponse)
def edit(recipient_id: RecipientId, request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    return _form(request, person=directory.get(ctx.station, recipient_id), editing=recipient_id)


def _person(
    name: str,
    unit: str,
    email: str,
    phone: str,
    person_language: str,
    needs_accessible: str,
    notify_by: str,
    staff_note: str,
) -> Person:
    return Person(
        name=name,
        unit=unit,
        email=email.strip() or None,
        phone=phone.strip() or None,
        language=person_language,
        needs_accessible=needs_accessible == "yes",
        notify_by=notify_by,
        staff_note=staff_note,
    )


def _save(
    request: Request, ctx: Ctx, who: Principal, recipient_id: int | None, person: Person
) -> HTMLResponse:
    words = Words(language(request))
    try:
        if recipient_id is None:
            row = directory.create(ctx.station, person, actor=who.actor)
        else:
            row = directory.update(ctx.station, recipient_id, person, actor=who.actor)
    except RecipientInvalid as exc:
        said = [problem_words(words, p) for p in exc.problems]
        return _form(request, status=422, person=person, editing=recipient_id, problems=said)
    key = "dir_added" if recipient_id is None else "dir_saved"
    return _form(request, headers=CHANGED, said=words(key, name=row.name))


@router.post("", response_class=HTMLResponse)
def create(
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    name: Text = "",
    unit: Text = "",
    email: Text = "",
    phone: Text = "",
    person_language: Annotated[Literal["en", "de"], Form()] = "en",
    needs_accessible: Annotated[str, Form(max_length=3)] = "",
    notify_by: Annotated[str, Form(max_length=10)] = "mail",
    staff_note: Text = "",
) -> HTMLResponse:
    """Add a person; a field that does not pass is named in the form, in its words."""
    person = _person(
        name, unit, email, phone, person_language, needs_accessible, notify_by, staff_note
    )
    return _save(request, ctx, who, None, person)


@router.post("/import", response_class=HTMLResponse)
async def import_file(
    request: Request, ctx: Ctx, who: StaffUser, file: UploadFile | None = None
) -> HTMLResponse:
    """A CSV file, all or nothing; the report names every rejected line and why."""
    from starlette.concurrency import run_in_threadpool

    words = Words(language(request))
    raw = await file.read() if file is not None else b""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return render(
            request,
            "staff_directory_report.html",
            status=422,
            said=words("dir_not_utf8"),
            rows=[],
        )
    try:
        report = await run_in_threadpool(
            directory_csv.import_csv, ctx.station, text, actor=who.actor
        )
    except CsvRejected as exc:
        rows = [(r.line, [problem_words(words, p) for p in r.problems]) for r in exc.rows]
        said = words("dir_rejected", n=len(rows)) if rows else exc.message
        return render(request, "staff_directory_report.html", status=422, said=said, rows=rows)
    said = words("dir_imported", created=report.created, updated=report.updated)
    return render(
        request, "staff_directory_report.html", headers=CHANGED, said=said, rows=[], good=True
    )


@router.post("/{recipient_id}", response_class=HTMLResponse)
def update(
    recipient_id: RecipientId,
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    name: Text = "",
    unit: Text = "",
    email: Text = "",
    phone: Text = "",
    person_language: Annotated[Literal["en", "de"], Form()] = "en",
    needs_accessible: Annotated[str, Form(max_length=3)] = "",
    notify_by: Annotated[str, Form(max_length=10)] = "mail",
    staff_note: Text = "",
) -> HTMLResponse:
    directory.get(ctx.station, recipient_id)  # 404 for nobody
    person = _person(
        name, unit, email, phone, person_language, needs_accessible, notify_by, staff_note
    )
    return _save(request, ctx, who, recipient_id, person)


@router.get("/export")
def export(ctx: Ctx, who: StaffUser) -> Response:
    return Response(
        directory_csv.export_csv(ctx.station),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="directory.csv"'},
    )


@router.get("/choices", response_class=HTMLResponse)
def choices(
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    parcel_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    q: Search = "",
) -> HTMLResponse:
    """The people a parcel for nobody found may be for (the tolerant search)."""
    found = directory_search.search(ctx.station, q) if q.strip() else []
    return render(
        request, "staff_directory_choices.html", matches=found, parcel_id=parcel_id, typed=q
    )


def _unknown_row(
    request: Request, ctx: Ctx, parcel_id: int, *, said: str, good: bool, status: int = 200
) -> HTMLResponse:
    with ctx.station.db.read() as session:
        parcel = get_parcel(session, parcel_id)
    return render(
        request,
        "staff_directory_unknown.html",
        status=status,
        p=parcel,
        said=said,
        good=good,
    )


@router.post("/parcels/{parcel_id}/assign", response_class=HTMLResponse)
def assign(
    parcel_id: ParcelId,
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    recipient_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """The parcel is for this person, who is told now."""
    words = Words(language(request))
    if recipient_id is None:
        return _unknown_row(
            request, ctx, parcel_id, said=words("dir_choose_first"), good=False, status=422
        )
    try:
        recipients.assign(
            ctx.station, actor=who.actor, parcel_id=parcel_id, recipient_id=recipient_id
        )
    except DomainError as exc:
        said = words.problem(exc)
        return _unknown_row(request, ctx, parcel_id, said=said, good=False, status=exc.status)
    person = directory.get(ctx.station, recipient_id)
    said = words("dir_assigned", id=parcel_id, name=person.name)
    return _unknown_row(request, ctx, parcel_id, said=said, good=True)


@router.post("/parcels/{parcel_id}/send-back", response_class=HTMLResponse)
def send_back(parcel_id: ParcelId, request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    """Nobody it could be for: it waits for its carrier's courier."""
    words = Words(language(request))
    try:
        recipients.send_back(ctx.station, actor=who.actor, parcel_id=parcel_id)
    except DomainError as exc:
        said = words.problem(exc)
        return _unknown_row(request, ctx, parcel_id, said=said, good=False, status=exc.status)
    return _unknown_row(
        request, ctx, parcel_id, said=words("dir_sent_back", id=parcel_id), good=True
    )
