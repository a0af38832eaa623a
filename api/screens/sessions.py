"""Signing in on the courier and maintenance screens.

A screen signs in with the same accounts, limits and sessions as the API's browser
session. The session id stays in an HttpOnly cookie; the session's CSRF token goes into a
second cookie that only pages of this station can read (SameSite=Strict), from which
``screens.js`` copies it into the ``X-CSRF-Token`` header of every htmx request. The
server checks that header against the session's stored hash, as for the API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.context import StationContext, context
from api.routes.accounts import signed_in
from api.schemas import SignInIn
from api.screens import central
from api.screens.i18n import Words
from api.screens.render import is_htmx, language, render
from api.security import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE
from locker import accounts
from locker.accounts import PasswordChangeRequired, Principal
from locker.errors import DomainError, TooManyAttempts
from locker.types import Role

CSRF_COOKIE = "locker_csrf"


class SignInNeeded(Exception):
    """The screen at ``home`` needs a signed-in account of another kind (or any)."""

    def __init__(self, home: str) -> None:
        super().__init__(home)
        self.home = home


def sign_in_needed_answer(request: Request, exc: Exception) -> Response:
    """htmx follows ``HX-Redirect`` with a full page load; a browser follows a 303."""
    assert isinstance(exc, SignInNeeded)
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": exc.home})
    return RedirectResponse(exc.home, status_code=303)


def _session_principal(request: Request, ctx: StationContext) -> Principal | None:
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    checked = accounts.principal_for_session(
        ctx.station, session_id, csrf_token=request.headers.get(CSRF_HEADER)
    )
    if checked is None:
        return None
    who, csrf_ok = checked
    if request.method not in SAFE_METHODS and not csrf_ok:
        return None
    return who


async def visitor(
    request: Request, ctx: Annotated[StationContext, Depends(context)]
) -> Principal | None:
    """Who is signed in on this browser (None: nobody, or a change without its CSRF token)."""
    return await run_in_threadpool(_session_principal, request, ctx)


def screen_role(home: str, *roles: Role) -> Callable[..., object]:
    """A dependency: the signed-in account if it has one of ``roles``, else the screen's
    sign-in page (for htmx requests, a redirect to it)."""

    async def check(who: Annotated[Principal | None, Depends(visitor)]) -> Principal:
        if who is None or not who.has(*roles):
            raise SignInNeeded(home)
        return who

    return check


def sign_in_page(
    request: Request,
    home: str,
    title_key: str,
    *,
    status: int = 200,
    message: str = "",
    name: str = "",
    change_password: bool = False,
) -> HTMLResponse:
    return render(
        request,
        "sign_in.html",
        status=status,
        home=home,
        title_key=title_key,
        message=message,
        name=name,
        change_password=change_password,
    )


async def sign_in_form(
    request: Request,
    ctx: StationContext,
    *,
    home: str,
    title_key: str,
    roles: tuple[Role, ...],
    name: str,
    password: str,
    new_password: str,
) -> Response:
    """Check the form; on success start a session and send the browser to ``home``."""
    words = Words(language(request))

    def again(status: int, message: str, change_password: bool = False) -> HTMLResponse:
        return sign_in_page(
            request,
            home,
            title_key,
            status=status,
            message=message,
            name=name,
            change_password=change_password,
        )

    try:
        body = SignInIn(name=name, password=password, new_password=new_password or None)
    except ValidationError:
        return again(422, words("error_other", detail=words("name") + " / " + words("password")))
    try:
        if central.is_central(name):  # a hub operator's pass (api/screens/central.py)
            who = await central.signed_in(ctx, name, password, words)
        else:
            who = await signed_in(body, request, ctx)
    except PasswordChangeRequired:
        return again(403, words("password_change_required"), change_password=True)
    except TooManyAttempts as exc:
        return again(429, words("wait_s", s=exc.retry_after))
    except DomainError as exc:
        return again(exc.status, words.problem(exc), bool(new_password))
    if not who.has(*roles):
        return again(403, words("wrong_role"))
    ttl = central.session_ttl(ctx, who, timedelta(hours=ctx.settings.session_hours))
    keys = await run_in_threadpool(lambda: accounts.start_session(ctx.station, who, ttl=ttl))
    response = RedirectResponse(home, status_code=303)
    age = int(ttl.total_seconds())
    secure = ctx.settings.cookie_secure
    response.set_cookie(
        SESSION_COOKIE,
        keys.session_id,
        max_age=age,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE, keys.csrf_token, max_age=age, samesite="strict", secure=secure, path="/"
    )
    return response


def signed_out(request: Request, ctx: StationContext, home: str) -> Response:
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        accounts.end_session(ctx.station, session_id)
    response = Response(status_code=204, headers={"HX-Redirect": home})
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def sign_in_instead(
    request: Request, who: Principal | None, *, home: str, title_key: str, role: Role
) -> HTMLResponse | None:
    """The sign-in page when nobody of ``role`` is signed in (None: go on to the screen)."""
    if who is not None and who.has(role):
        return None
    message = Words(language(request))("wrong_role") if who else ""
    return sign_in_page(request, home, title_key, message=message)
