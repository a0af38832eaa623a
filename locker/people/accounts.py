"""Accounts of couriers, staff and admins: made, listed, switched off, reset.

Nothing ships with a default password: the first admin gets a one-time password, which
must be replaced at the first sign-in (:mod:`locker.people.sign_in`). Who is calling is a
:class:`~locker.people.identity.Principal`; tokens and sessions are in
:mod:`locker.people.credentials`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, select

from locker.audit import record
from locker.errors import InvalidTransition, NotFound
from locker.people import identity
from locker.people.credentials import issue_token, sign_out_everywhere
from locker.people.identity import (
    AccountExists,
    Principal,
    check_password,
    principal_of,
)
from locker.station import Station
from locker.store.tables import Account
from locker.types import Role

DEVICE_TOKEN_TTL = timedelta(days=90)  # a new courier's first token, for their device


@dataclass(frozen=True)
class NewAccount:
    principal: Principal
    password: str | None  # the generated one-time password, shown once
    token: str | None  # a courier's first bearer token, shown once


def create_account(
    station: Station,
    *,
    name: str,
    role: Role,
    actor: str,
    carrier: str | None = None,
    password: str | None = None,
    with_token: bool = False,
    token_ttl: timedelta = DEVICE_TOKEN_TTL,
) -> NewAccount:
    """Add an account. Without ``password`` a one-time password is generated."""
    name = name.strip()
    if not name:
        raise InvalidTransition("an account needs a name")
    if role is Role.COURIER and not (carrier and carrier.strip()):
        raise InvalidTransition("a courier account needs the carrier it works for")
    if role is not Role.COURIER and carrier is not None:
        raise InvalidTransition("only couriers work for a carrier; staff see every parcel")
    one_time = password is None
    if password is None:
        password = secrets.token_urlsafe(12)
    else:
        check_password(password)
    now = station.now()
    with station.db.write() as session:
        if session.exec(select(Account.id).where(Account.name == name)).first() is not None:
            raise AccountExists(f"an account named {name!r} exists already")
        account = Account(
            name=name,
            role=role,
            carrier=carrier.strip() if carrier else None,
            password_hash=identity.hasher().hash(password),
            must_change_password=one_time,
            created_at=now,
        )
        session.add(account)
        session.flush()
        record(session, actor=actor, action="account.created", now=now, detail=f"{role}:{name}")
        principal = principal_of(account)
    token = (
        issue_token(station, principal, ttl=token_ttl, label="first token").token
        if with_token
        else None
    )
    return NewAccount(principal, password if one_time else None, token)


def ensure_admin(station: Station) -> str | None:
    """On first start create the ``admin`` account; return its one-time password."""
    with station.db.read() as session:
        exists = session.exec(select(Account.id).where(Account.role == Role.ADMIN)).first()
    if exists is not None:
        return None
    return create_account(station, name="admin", role=Role.ADMIN, actor="system").password


def accounts(station: Station) -> list[tuple[Principal, bool]]:
    """Every account, with whether it is active."""
    with station.db.read() as session:
        rows = session.exec(select(Account).order_by(col(Account.id))).all()
        return [(principal_of(row), row.active) for row in rows]


def deactivate(station: Station, *, account_id: int, actor: str) -> None:
    """Switch an account off: its tokens are revoked and its sessions ended at once."""
    now = station.now()
    with station.db.write() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise NotFound("account", account_id)
        account.active = False
        session.add(account)
        sign_out_everywhere(session, account_id, now)
        record(session, actor=actor, action="account.deactivated", now=now, detail=account.name)


def revoke_courier(station: Station, *, name: str, actor: str) -> None:
    """End every token and session of a courier account (it stays, and may sign in again)."""
    now = station.now()
    with station.db.write() as session:
        account = session.exec(select(Account).where(Account.name == name)).first()
        if account is None or account.role is not Role.COURIER or account.id is None:
            raise NotFound("courier", name)
        sign_out_everywhere(session, account.id, now)
        record(session, actor=actor, action="courier.revoked", now=now, detail=name)


def reset_password(station: Station, *, name: str, actor: str) -> str:
    """A new one-time password for an account (its tokens and sessions end); returned once."""
    password = secrets.token_urlsafe(12)
    now = station.now()
    with station.db.write() as session:
        account = session.exec(select(Account).where(Account.name == name)).first()
        if account is None:
            raise NotFound("account", name)
        account.password_hash = identity.hasher().hash(password)
        account.must_change_password = True
        session.add(account)
        assert account.id is not None
        sign_out_everywhere(session, account.id, now)
        record(session, actor=actor, action="password.reset", now=now, detail=name)
    return password
