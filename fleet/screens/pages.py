"""What every page of the fleet screen uses: the operator's session and role, the CSRF check,
the security headers, rendering a template in the operator's language, and the drawing of
a station's front.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from common.screen_headers import SCREEN_HEADERS
from common.words import LANGUAGE_NAMES, LANGUAGES, pick_language
from fleet import accounts, guard
from fleet.accounts import HubRole
from fleet.errors import FleetError
from fleet.hub import hub_of
from fleet.screens import views
from fleet.screens.i18n import Words
from fleet.tables import Operator
from locker.front import drawing
from locker.uplink.layout import from_report

HOME = "/fleet/"


SESSION_COOKIE = "hub_session"


CSRF_COOKIE = "hub_csrf"


CSRF_HEADER = "X-CSRF-Token"


LANG_COOKIE = "hub_lang"


LIVE_S = 2  # how often the pages redraw


EXTEND_DAYS = 3


GRANT_DAYS = 7


PACKAGE = Path(__file__).resolve().parent.parent


TEMPLATES = Jinja2Templates(directory=PACKAGE / "templates")


HEADERS = {**SCREEN_HEADERS, "Cache-Control": "no-store"}  # an operator's pages stay unstored


class SignInNeeded(Exception):
    """Nobody (or nobody of the role) is signed in on this browser."""


def csrf_of(session_token: str) -> str:
    """The CSRF value of a session: readable by the hub's pages, useless as a session."""
    return hmac.new(session_token.encode(), b"hub-screen-csrf", hashlib.sha256).hexdigest()


def operator_of(request: Request, role: HubRole) -> Operator | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token.startswith(accounts.TOKEN_PREFIX):
        return None
    if request.method not in ("GET", "HEAD") and not hmac.compare_digest(
        request.headers.get(CSRF_HEADER, ""), csrf_of(token)
    ):
        return None
    hub = hub_of(request)
    try:
        return accounts.authenticate(hub.db, token, role, hub.clock())
    except FleetError:
        return None


class ScreenRole:
    """The dependency every screen route but signing in has; a test finds it on each."""

    def __init__(self, role: HubRole) -> None:
        self.role: HubRole = role

    def __call__(self, request: Request) -> Operator:
        who = operator_of(request, self.role)
        if who is None:
            raise SignInNeeded
        return who


PUBLIC_SCREEN_ROUTES = frozenset({("GET", "/"), ("GET", "/sign-in"), ("POST", "/sign-in")})


def render(request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    lang = pick_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )
    words = Words(lang)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": words,
            "lang": lang,
            "languages": LANGUAGE_NAMES,
            "moment": lambda v: v.strftime("%Y-%m-%d %H:%M") if v else "–",
            "live_s": LIVE_S,
            **values,
        },
        status_code=status,
        headers=HEADERS,
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            samesite="lax",
            secure=guard.secure(request),
            path="/fleet",
        )
    return response


def words_for(request: Request) -> Words:
    return Words(
        pick_language(
            request.query_params.get("lang"),
            request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language"),
        )
    )


def said_fragment(request: Request, text: str, *, good: bool, status: int = 200) -> HTMLResponse:
    return render(request, "fleet_said.html", status=status, said=text, good=good)


def front_of(layout: dict[str, Any] | None, page: views.StationPage, words: Words) -> Any:
    """The station's front as its maintenance screen draws it, from the layout it reported."""
    built = from_report(layout)
    if built is None:
        return None
    drawn = drawing(built)
    doors = []
    for tile in drawn.tiles:
        cid = tile.compartment_id
        state = page.states.get(cid, "unknown")
        spec = built.compartment(cid)  # type: ignore[arg-type]
        state_words = words(f"state_{state}") if f"state_{state}" in _STATE_KEYS else state
        doors.append(
            {
                "id": cid,
                "css": f"state-{state}",
                "label": f"{words('compartment_n', n=cid)} ({spec.size.value}): {state_words}",
                "style": (
                    f"left:{tile.x * 100:.3f}%;top:{tile.y * 100:.3f}%;"
                    f"width:{tile.width * 100:.3f}%;height:{tile.height * 100:.3f}%"
                ),
            }
        )
    return {"aspect": f"{drawn.width_mm} / {drawn.height_mm}", "doors": doors}


_STATE_KEYS = {f"state_{s}" for s in ("free", "reserved", "occupied", "out_of_service", "fault")}


def status_words(
    row: views.StationRow, words: Words, now: datetime, *, coarse: bool = False
) -> str:
    """``coarse``: to the minute (the stations list, whose version changes only when what it
    shows does, not every second)."""

    def age(since: datetime) -> str:
        seconds = (now - since).total_seconds()
        if coarse and seconds < 60:
            return words("age_under_min")
        return words.age(seconds - (seconds % 60 if coarse else 0))

    if row.last_seen is None:
        return words("never_seen")
    if row.online:
        return words("online_for", age=age(row.last_seen))
    return words("offline_for", age=age(row.offline_since or row.last_seen))  # from the drop
