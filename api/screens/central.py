"""The maintenance screen's sign-in for hub operators (central staff, issue 18): the name
``hub:<operator>`` and the hub's one-time pass as the password, checked offline by
:mod:`locker.uplink.grants` against the grant the hub sent. Local accounts sign in as
before; a station that is not joined to a hub refuses every pass."""

from __future__ import annotations

from datetime import timedelta

from fastapi.concurrency import run_in_threadpool
from sqlmodel import col, select

from api.context import StationContext
from api.screens.i18n import Words
from locker.errors import DomainError
from locker.people.identity import Principal
from locker.sentences.problems import problem_sentence
from locker.store.tables import CentralGrant
from locker.uplink import grants

is_central = grants.is_central


class CentralSignInRefused(DomainError):
    """A pass refused, said in the visitor's language (the reason's code is audited)."""

    status = 401

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def signed_in(ctx: StationContext, name: str, password: str, words: Words) -> Principal:
    settings = ctx.settings
    if not (settings.hub_station and settings.hub_command_key):
        raise CentralSignInRefused("no_hub", words("central_no_hub"))
    key = bytes.fromhex(settings.hub_command_key)
    try:
        done = await run_in_threadpool(
            grants.sign_in, ctx.station, settings.hub_station, key, name, password
        )
    except grants.CentralRefused as exc:
        said = problem_sentence(exc.code, words.lang)  # never the bare code
        raise CentralSignInRefused(exc.code, said) from None
    return done.principal


def session_ttl(ctx: StationContext, who: Principal, ttl: timedelta) -> timedelta:
    """A hub operator's session ends when their grant here does, if that is sooner."""
    if not is_central(who.name):
        return ttl
    operator = who.name[len(grants.CENTRAL_PREFIX) :]
    now = ctx.station.now()
    with ctx.station.db.read() as session:
        ends = session.exec(
            select(CentralGrant.expires_at).where(
                CentralGrant.operator == operator,
                col(CentralGrant.revoked_at).is_(None),
                col(CentralGrant.expires_at) > now,
            )
        ).all()
    latest = max((e for e in ends if e is not None), default=now)
    return max(timedelta(0), min(ttl, latest - now))
