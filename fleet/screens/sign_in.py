"""Signing in and out of the operators' screen, and what keeps other sites out of it.

- **Cross-site requests are refused** on every change of the screen (:func:`same_origin`,
  a dependency of every route): a browser says where a request comes from, in
  ``Sec-Fetch-Site`` (anything but ``same-origin`` or ``none`` is refused) and ``Origin``
  (it must be the hub's own). A browser too old for either still has the next two.
- **The sign-in form carries its own CSRF value** (double submit, before any session): the
  page sets a random value in an HttpOnly, SameSite=Strict cookie and the same value in a
  hidden field; a post without both, equal, is refused and shows a fresh form. Another
  site can neither read the value nor make the browser send the cookie.
- **After signing in**, every change needs the session's ``X-CSRF-Token`` header
  (:func:`fleet.screens.pages.operator_of`, copied by ``common/static/csrf.js``).
- **Over HTTPS** (:func:`fleet.guard.secure`) every cookie is ``Secure``.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import delete
from sqlmodel import col

from fleet import accounts, grants, guard
from fleet.errors import FleetError, TooManyAttempts
from fleet.hub import Hub
from fleet.screens.pages import (
    CSRF_COOKIE,
    HOME,
    SESSION_COOKIE,
    ScreenRole,
    csrf_of,
    operator_of,
    render,
    words_for,
)
from fleet.tables import Operator, OperatorToken

FORM_COOKIE = "hub_sign_in"  # the sign-in form's CSRF value (not a session)
FORM_FIELD = "form_token"
_FORM_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE = frozenset({"same-origin", "none"})  # "none": the person typed or bookmarked it


class CrossSite(FleetError):
    code = "cross_site_request"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            "This was sent from another site: the hub's screen takes changes only from its "
            "own pages."
        )


def cross_site(request: Request) -> bool:
    """Whether the browser says this request comes from another site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site.lower() not in SAME_SITE:
        return True
    origin = request.headers.get("origin")
    return origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}"


def same_origin(request: Request) -> None:
    """The dependency of every screen route: no change from another site."""
    if request.method not in SAFE_METHODS and cross_site(request):
        raise CrossSite


def sign_in_page(
    request: Request, *, status: int = 200, message: str = "", name: str = ""
) -> HTMLResponse:
    """The form with its CSRF value (the browser's own, or a new one)."""
    value = request.cookies.get(FORM_COOKIE, "")
    if not _FORM_VALUE.fullmatch(value):
        value = secrets.token_urlsafe(32)
    response = render(
        request,
        "fleet_sign_in.html",
        status=status,
        message=message,
        name=name,
        form_token=value,
    )
    response.set_cookie(
        FORM_COOKIE,
        value,
        httponly=True,
        samesite="strict",
        secure=guard.secure(request),
        path="/fleet",
    )
    return response


def install(screens: FastAPI, hub: Hub) -> None:
    """The sign-in and sign-out routes of the screen."""

    @screens.get("/sign-in", response_class=HTMLResponse)
    def sign_in_form(request: Request) -> Response:
        """The sign-in page at its own address (a bookmark, a link); signed in: the fleet."""
        if operator_of(request, "operator") is not None:
            return RedirectResponse(HOME, status_code=303)
        return sign_in_page(request)

    @screens.post("/sign-in")
    def sign_in(
        request: Request,
        name: Annotated[str, Form(max_length=64)] = "",
        password: Annotated[str, Form(max_length=1000)] = "",
        form_token: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        words = words_for(request)
        cookie = request.cookies.get(FORM_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie.encode(), form_token.encode()):
            return sign_in_page(request, status=403, message=words("form_again"), name=name)
        now = hub.clock()
        ttl = timedelta(hours=hub.settings.token_hours)
        address = request.client.host if request.client else None
        try:
            token = accounts.login(hub.db, name, password, now, ttl, address)
        except TooManyAttempts as exc:
            return sign_in_page(
                request, status=429, message=words("wait_s", s=exc.retry_after), name=name
            )
        except FleetError:
            return sign_in_page(request, status=401, message=words("login_failed"), name=name)
        with hub.db.transaction() as session:
            grants.audit(session, now, name, "screen.signed_in", None, "")
        response = RedirectResponse(HOME, status_code=303)
        age = int(ttl.total_seconds())
        secure = guard.secure(request)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=age,
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/fleet",
        )
        response.set_cookie(
            CSRF_COOKIE,
            csrf_of(token),
            max_age=age,
            samesite="strict",
            secure=secure,
            path="/fleet",
        )
        response.delete_cookie(FORM_COOKIE, path="/fleet", secure=secure, httponly=True)
        return response

    @screens.post("/sign-out")
    def sign_out(
        request: Request, who: Annotated[Operator, Depends(ScreenRole("operator"))]
    ) -> Response:
        with hub.db.transaction() as session:
            grants.audit(session, hub.clock(), who.name, "screen.signed_out", None, "")
            token = request.cookies.get(SESSION_COOKIE, "")
            session.execute(
                delete(OperatorToken).where(
                    col(OperatorToken.token_hash) == accounts.token_hash(token)
                )
            )
        response = Response(status_code=204, headers={"HX-Redirect": HOME})
        secure = guard.secure(request)
        response.delete_cookie(SESSION_COOKIE, path="/fleet", secure=secure, httponly=True)
        response.delete_cookie(CSRF_COOKIE, path="/fleet", secure=secure)
        return response
