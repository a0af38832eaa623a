"""The maintenance screen's page for one person's data (issue 17): find what the station
holds about someone (directory number, e-mail address or phone), download it as JSON,
or erase it once none of their parcels is waiting.

Everything goes by POST with the session's CSRF token (no address in a URL); the export
is handed to the browser inside the answer as a download link, and audited."""

from __future__ import annotations

import base64
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from api.screens.i18n import Words
from api.screens.render import language, render
from api.screens.sessions import screen_role
from api.security import Ctx
from locker.errors import DomainError
from locker.people.identity import Principal
from locker.services import privacy
from locker.types import Role

HOME = "/staff"
router = APIRouter(prefix=HOME + "/person", include_in_schema=False)
StaffUser = Annotated[Principal, Depends(screen_role(HOME, Role.STAFF))]
Text = Annotated[str, Form(max_length=254)]


def _person(recipient_id: str, email: str, phone: str) -> privacy.Person:
    number = recipient_id.strip()
    return privacy.Person(
        recipient_id=int(number) if number.isdigit() else None,
        email=email.strip() or None,
        phone=phone.strip() or None,
    )


def _said(request: Request, text: str, *, good: bool, status: int = 200) -> HTMLResponse:
    return render(request, "staff_said.html", status=status, said=text, good=good)


@router.get("", response_class=HTMLResponse)
def page(request: Request, who: StaffUser) -> HTMLResponse:
    return render(request, "staff_person.html", who=who, section="")


@router.post("/find", response_class=HTMLResponse)
def find(
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    recipient_id: Text = "",
    email: Text = "",
    phone: Text = "",
) -> HTMLResponse:
    """What is held (counts), the export as a download, and the erase button."""
    words = Words(language(request))
    try:
        data = privacy.export(ctx.station, _person(recipient_id, email, phone), actor=who.actor)
    except DomainError as exc:
        return _said(request, words.problem(exc), good=False, status=exc.status)
    parcels = data["parcels"]
    waiting = [p for p in parcels if p["state"] not in ("collected", "returned")]
    blob = json.dumps(data, indent=2, ensure_ascii=False).encode()
    return render(
        request,
        "staff_person_found.html",
        found=words(
            "staff_person_found",
            parcels=len(parcels),
            waiting=len(waiting),
            rows=len(data["audit"]),
            messages=len(data["messages"]),
        ),
        waiting=bool(waiting),
        export_href="data:application/json;base64," + base64.b64encode(blob).decode(),
    )


@router.post("/erase", response_class=HTMLResponse)
def erase(
    request: Request,
    ctx: Ctx,
    who: StaffUser,
    recipient_id: Text = "",
    email: Text = "",
    phone: Text = "",
) -> HTMLResponse:
    words = Words(language(request))
    try:
        done = privacy.erase(ctx.station, _person(recipient_id, email, phone), actor=who.actor)
    except DomainError as exc:
        return _said(request, words.problem(exc), good=False, status=exc.status)
    return _said(request, words("staff_person_erased", pseudonym=done.pseudonym), good=True)
