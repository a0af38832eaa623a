"""Who is calling: a bearer token (scripts, couriers' devices) or a staff browser session.

A browser session is a cookie; every request that changes something must also carry
the session's CSRF token in ``X-CSRF-Token`` (a page of another site can make the browser
send the cookie, but cannot read the token). Bearer requests need no CSRF token.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from api.context import StationContext, context
from api.problems import ProblemError
from locker.people import kiosk_devices
from locker.people.credentials import principal_for_session, principal_for_token
from locker.people.identity import Principal
from locker.types import Role

SESSION_COOKIE = "locker_session"
KIOSK_COOKIE = "locker_kiosk"  # a paired kiosk's device token
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_scheme = HTTPBearer(auto_error=False, description="a token from POST /api/v1/auth/token")
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="set by POST /api/v1/auth/session"
)


def client_address(request: Request) -> str:
    """Attempt limits count per client address, unless the client is a paired kiosk."""
    return request.client.host if request.client else "unknown"


def kiosk_terminal(request: Request, ctx: StationContext) -> str:
    """The attempt-limit terminal of a kiosk request: the paired device its cookie names,
    else (an unpaired screen, a phone) its client address."""
    token = request.cookies.get(KIOSK_COOKIE)
    if token:
        device = kiosk_devices.terminal_for_token(ctx.station, token)
        if device is not None:
            return device
    return client_address(request)


def _not_signed_in() -> ProblemError:
    return ProblemError(
        401,
        "not_authenticated",
        "Sign in first: a bearer token or a staff session is needed.",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def principal(
    request: Request,
    ctx: Annotated[StationContext, Depends(context)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    session_id: Annotated[str | None, Depends(cookie_scheme)],
) -> Principal:
    """The signed-in account, or a ``not_authenticated`` problem."""
    if bearer is not None:
        found = await run_in_threadpool(principal_for_token, ctx.station, bearer.credentials)
        if found is None:
            raise _not_signed_in()
        return found
    if session_id:
        csrf = request.headers.get(CSRF_HEADER)
        checked = await run_in_threadpool(
            lambda: principal_for_session(ctx.station, session_id, csrf_token=csrf)
        )
        if checked is None:
            raise _not_signed_in()
        who, csrf_ok = checked
        if request.method not in SAFE_METHODS and not csrf_ok:
            raise ProblemError(
                403,
                "csrf_failed",
                f"A signed-in browser must send the session's CSRF token in {CSRF_HEADER}.",
            )
        return who
    raise _not_signed_in()


def require(*roles: Role) -> Callable[..., object]:
    """A dependency that lets only ``roles`` through (admins count as staff)."""
    allowed = ", ".join(r.value for r in roles)

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.has(*roles):
            raise ProblemError(403, "forbidden", f"Only {allowed} may do this.")
        return who

    return check


async def sim_hands(
    request: Request,
    ctx: Annotated[StationContext, Depends(context)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    session_id: Annotated[str | None, Depends(cookie_scheme)],
) -> str:
    """Who may use the simulated doors: the simulator's own token (``ctx.sim_token``) or a
    staff member (token or browser session); the audit-style name of the caller."""
    if bearer is not None and ctx.sim_token:
        given = bearer.credentials.encode()
        if secrets.compare_digest(given, ctx.sim_token.encode()):
            return "sim-token"
    try:
        who = await principal(request, ctx, bearer, session_id)
    except ProblemError as exc:
        if exc.status != 401:
            raise
        raise ProblemError(
            401,
            "not_authenticated",
            "The simulated doors need a staff session or token, or the simulator's token "
            "(printed at start-up) as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        ) from exc
    if not who.has(Role.STAFF):
        raise ProblemError(403, "forbidden", "Only staff (or the simulator's token) may do this.")
    return who.actor


Courier = Annotated[Principal, Depends(require(Role.COURIER))]
Staff = Annotated[Principal, Depends(require(Role.STAFF))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
CourierOrStaff = Annotated[Principal, Depends(require(Role.COURIER, Role.STAFF))]
Ctx = Annotated[StationContext, Depends(context)]
SimHands = Annotated[str, Depends(sim_hands)]
