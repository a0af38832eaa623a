"""Signing in (bearer tokens for scripts and couriers' devices, sessions for browsers)
and, for admins, the accounts themselves."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import APIRouter, Cookie, Depends, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials

from api.context import StationContext
from api.openapi_errors import problem_responses
from api.problems import ProblemError
from api.schemas import MAX_ID
from api.schemas_accounts import (
    AccountIn,
    AccountOut,
    NewAccountOut,
    SessionOut,
    SignInIn,
    TokenIn,
    TokenOut,
)
from api.security import SESSION_COOKIE, Admin, Ctx, bearer_scheme, client_address, principal
from locker.people import accounts, credentials
from locker.people import sign_in as signing
from locker.people.identity import Principal
from locker.types import Role

# No bearer token to revoke, a wrong password, a one-time one to replace, a taken name,
# an unknown account, a weak new password, too many wrong passwords.
router = APIRouter(
    prefix="/api/v1",
    tags=["accounts"],
    responses=problem_responses(400, 401, 403, 404, 409, 422, 429),
)
Who = Annotated[Principal, Depends(principal)]


def account_out(who: Principal, active: bool = True) -> AccountOut:
    return AccountOut(
        id=who.account_id, name=who.name, role=who.role, carrier=who.carrier, active=active
    )


# Password hashing is slow on purpose: at most two sign-ins hash at a time, so a flood
# of them waits in line instead of taking every worker thread from the doors.
_HASHING = anyio.CapacityLimiter(2)


async def signed_in(body: SignInIn, request: Request, ctx: StationContext) -> Principal:
    def check() -> Principal:
        return signing.sign_in(
            ctx.station,
            name=body.name,
            password=body.password,
            new_password=body.new_password,
            client=client_address(request),
        )

    return await anyio.to_thread.run_sync(check, limiter=_HASHING)


@router.post("/auth/token", status_code=status.HTTP_201_CREATED)
async def token(body: TokenIn, request: Request, ctx: Ctx) -> TokenOut:
    """Sign in with name and password for a bearer token (shown once)."""
    who = await signed_in(body, request, ctx)
    ttl = timedelta(hours=ctx.settings.token_hours)
    issued = await run_in_threadpool(
        lambda: credentials.issue_token(ctx.station, who, ttl=ttl, label=body.label)
    )
    return TokenOut(token=issued.token, expires_at=issued.expires_at, account=account_out(who))


@router.delete("/auth/token", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    who: Who,
    ctx: Ctx,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> None:
    """Revoke the bearer token this request is made with (sign a script or device out)."""
    if bearer is None:
        raise ProblemError(
            400, "no_bearer_token", "Send the token to revoke as 'Authorization: Bearer <token>'."
        )
    credentials.revoke_token(ctx.station, bearer.credentials, actor=who.actor)


@router.post("/auth/session")
async def sign_in(body: SignInIn, request: Request, response: Response, ctx: Ctx) -> SessionOut:
    """Sign a browser in: sets the session cookie; send the CSRF token with every change."""
    who = await signed_in(body, request, ctx)
    if who.role is Role.COURIER:
        raise ProblemError(403, "forbidden", "Couriers sign in for a bearer token instead.")
    ttl = timedelta(hours=ctx.settings.session_hours)
    keys = await run_in_threadpool(lambda: credentials.start_session(ctx.station, who, ttl=ttl))
    response.set_cookie(
        SESSION_COOKIE,
        keys.session_id,
        max_age=int(ttl.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=ctx.settings.cookie_secure,
        path="/",
    )
    return SessionOut(
        csrf_token=keys.csrf_token, expires_at=keys.expires_at, account=account_out(who)
    )


@router.delete("/auth/session", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(
    who: Who,
    ctx: Ctx,
    response: Response,
    session_id: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> None:
    """End this browser's session."""
    if session_id:
        credentials.end_session(ctx.station, session_id)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me")
def me(who: Who) -> AccountOut:
    """Who the credentials belong to."""
    return account_out(who)


@router.get("/accounts")
def list_accounts(who: Admin, ctx: Ctx) -> list[AccountOut]:
    return [account_out(p, active) for p, active in accounts.accounts(ctx.station)]


@router.post("/accounts", status_code=status.HTTP_201_CREATED)
def create_account(body: AccountIn, who: Admin, ctx: Ctx) -> NewAccountOut:
    """Add a courier, staff member or admin; the answer holds a one-time password (and a
    courier's first token), shown once."""
    made = accounts.create_account(
        ctx.station,
        name=body.name,
        role=body.role,
        carrier=body.carrier,
        actor=who.actor,
        with_token=body.role is Role.COURIER,
        token_ttl=timedelta(days=ctx.settings.device_token_days),
    )
    assert made.password is not None
    return NewAccountOut(
        account=account_out(made.principal), one_time_password=made.password, token=made.token
    )


@router.post("/accounts/{account_id}/deactivate")
def deactivate(
    account_id: Annotated[int, Path(ge=1, le=MAX_ID)], who: Admin, ctx: Ctx
) -> AccountOut:
    """Switch an account off: its tokens and sessions stop working at once."""
    if account_id == who.account_id:
        raise ProblemError(409, "invalid_transition", "You cannot switch off your own account.")
    accounts.deactivate(ctx.station, account_id=account_id, actor=who.actor)
    for found, active in accounts.accounts(ctx.station):
        if found.account_id == account_id:
            return account_out(found, active)
    raise AssertionError("the account vanished")
