"""Signing in on the courier and maintenance screens.

A screen signs in with the same accounts, limits and sessions as the API's browser
session. The session id stays in an HttpOnly cookie; the session's CSRF token goes into a
second cookie that only pages of this station can read (SameSite=Strict), from which
``common/static/csrf.js`` copies it into the ``X-CSRF-Token`` header of every htmx request. The
server checks that header against the session's stored hash, as for the API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.context import StationContext, context
from api.routes.accounts import signed_in
from api.schemas_accounts import SignInIn
from api.screens import central
from api.screens.i18n import Words
from api.screens.render import is_htmx, language, render
from api.security import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE
from locker.errors import DomainError, TooManyAttempts
from locker.people import credentials, identity, sign_in
from locker.people.identity import FirstSignInExpired, PasswordChangeRequired, Principal
from locker.types import Role

CSRF_COOKIE = "locker_csrf"
# The courier's screen keeps a session of its own, beside the maintenance screens' one
# (which the simulator's screen and the API's browser session share): a shop's back-office
# PC where one person is the courier of the shop's own parcels and its staff holds both,
# and signing in on one screen never signs the other out.
COURIER_SESSION_COOKIE = "locker_courier_session"
COURIER_CSRF_COOKIE = "locker_courier_csrf"


def cookie_names(home: str) -> tuple[str, str]:
    """The session and CSRF cookies of the screen at ``home``."""
    if home == "/courier":
        return COURIER_SESSION_COOKIE, COURIER_CSRF_COOKIE
    return SESSION_COOKIE, CSRF_COOKIE


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


def _session_principal(request: Request, ctx: StationContext, home: str) -> Principal | None:
    session_id = request.cookies.get(cookie_names(home)[0])
    if not session_id:
        return None
    checked = credentials.principal_for_session(
        ctx.station, session_id, csrf_token=request.headers.get(CSRF_HEADER)
    )
    if checked is None:
        return None
    who, csrf_ok = checked
    if request.method not in SAFE_METHODS and not csrf_ok:
        return None
    return who


def visitor_on(home: str) -> Callable[..., object]:
    """A dependency: who is signed in on the screen at ``home`` in this browser (None:
    nobody, or a change without its CSRF token)."""

    async def who(
        request: Request, ctx: Annotated[StationContext, Depends(context)]
    ) -> Principal | None:
        return await run_in_threadpool(_session_principal, request, ctx, home)

    return who


visitor = visitor_on("/staff")  # the maintenance screens' (and the simulator's) session


def screen_role(home: str, *roles: Role) -> Callable[..., object]:
    """A dependency: the signed-in account if it has one of ``roles``, else the screen's
    sign-in page (for htmx requests, a redirect to it)."""

    signed_in_here = visitor_on(home)

    # a default, not an annotation: annotations are strings here, and `home` is a local
    async def check(who: Principal | None = Depends(signed_in_here)) -> Principal:  # noqa: B008
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
    ticket: str = "",
) -> HTMLResponse:
    """The sign-in form; with a ``ticket`` its second step of a first sign-in: the
    one-time password was right, and the person chooses their own (typed twice)."""
    return render(
        request,
        "sign_in.html",
        status=status,
        home=home,
        title_key=title_key,
        message=message,
        name=name,
        change_password=change_password,
        ticket=ticket,
        min_length=identity.MIN_PASSWORD_LENGTH,
        headers={"Cache-Control": "no-store"},
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
    since = ctx.station.now()
    try:
        if central.is_central(name):  # a hub operator's pass (api/screens/central.py)
            who = await central.signed_in(ctx, name, password, words)
        else:
            who = await signed_in(body, request, ctx)
    except PasswordChangeRequired as exc:  # the one-time password was right: the next step
        return sign_in_page(request, home, title_key, name=name, ticket=exc.ticket)
    except TooManyAttempts as exc:
        return again(429, words("wait_s", s=exc.retry_after))
    except DomainError as exc:
        return again(exc.status, words.problem(exc), bool(new_password))
    if not who.has(*roles):
        return again(403, words("wrong_role"))
    if new_password:  # a password changed at sign-in ends the tokens too
        return await _session_started(ctx, who, home, landing=await _landing(ctx, who, home, since))
    return await _session_started(ctx, who, home)


async def first_password_form(
    request: Request,
    ctx: StationContext,
    *,
    home: str,
    title_key: str,
    roles: tuple[Role, ...],
    name: str,
    ticket: str,
    new_password: str,
    new_password_again: str,
) -> Response:
    """The second step of a first sign-in: the new password, twice; then the screen."""
    words = Words(language(request))

    def again(status: int, message: str) -> HTMLResponse:
        return sign_in_page(
            request, home, title_key, status=status, message=message, name=name, ticket=ticket
        )

    if new_password != new_password_again:
        return again(422, words("first_password_differ"))
    if len(new_password) < identity.MIN_PASSWORD_LENGTH:
        return again(422, words("first_password_rules", n=identity.MIN_PASSWORD_LENGTH))
    since = ctx.station.now()
    try:
        who = await run_in_threadpool(
            lambda: sign_in.choose_first_password(
                ctx.station, ticket=ticket, new_password=new_password
            )
        )
    except FirstSignInExpired:
        return sign_in_page(
            request,
            home,
            title_key,
            status=401,
            message=words("first_password_expired"),
            name=name,
        )
    except DomainError as exc:
        return again(exc.status, words.problem(exc))
    if not who.has(*roles):
        return sign_in_page(request, home, title_key, status=403, message=words("wrong_role"))
    return await _session_started(ctx, who, home, landing=await _landing(ctx, who, home, since))


async def _landing(ctx: StationContext, who: Principal, home: str, since: datetime) -> str:
    """Where a new password goes on to: the screen, and on the courier's a word that the
    courier's printed token stopped working with it (by design), if one did."""
    if who.role is not Role.COURIER:
        return home
    ended = await run_in_threadpool(
        credentials.tokens_revoked_since, ctx.station, who.account_id, since
    )
    return f"{home}?said=token_revoked" if ended else home


async def _session_started(
    ctx: StationContext, who: Principal, home: str, *, landing: str | None = None
) -> Response:
    """A new session on the screen at ``home``, in that screen's own cookies; the browser
    goes on to ``landing`` (default: ``home``)."""
    session_cookie, csrf_cookie = cookie_names(home)
    ttl = central.session_ttl(ctx, who, timedelta(hours=ctx.settings.session_hours))
    keys = await run_in_threadpool(lambda: credentials.start_session(ctx.station, who, ttl=ttl))
    response = RedirectResponse(landing or home, status_code=303)
    age = int(ttl.total_seconds())
    secure = ctx.settings.cookie_secure
    response.set_cookie(
        session_cookie,
        keys.session_id,
        max_age=age,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        csrf_cookie, keys.csrf_token, max_age=age, samesite="strict", secure=secure, path="/"
    )
    return response


def signed_out(request: Request, ctx: StationContext, home: str) -> Response:
    session_cookie, csrf_cookie = cookie_names(home)
    session_id = request.cookies.get(session_cookie)
    if session_id:
        credentials.end_session(ctx.station, session_id)
    response = Response(status_code=204, headers={"HX-Redirect": home})
    response.delete_cookie(session_cookie, path="/")
    response.delete_cookie(csrf_cookie, path="/")
    return response


def sign_in_instead(
    request: Request, who: Principal | None, *, home: str, title_key: str, role: Role
) -> HTMLResponse | None:
    """The sign-in page when nobody of ``role`` is signed in (None: go on to the screen)."""
    if who is not None and who.has(role):
        return None
    message = Words(language(request))("wrong_role") if who else ""
    return sign_in_page(request, home, title_key, message=message)
