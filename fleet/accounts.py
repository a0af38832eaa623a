"""Operator accounts: argon2 password hashes, bearer tokens kept only as SHA-256 hashes.

Roles: ``operator`` (sees the fleet, gives commands) and ``admin`` (also manages accounts).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete
from sqlmodel import col

from fleet.db import HubDatabase
from fleet.errors import (
    AlreadyExists,
    Forbidden,
    InvalidName,
    LoginFailed,
    NotAuthenticated,
    TooManyAttempts,
    WeakPassword,
)
from fleet.tables import LoginFailure, Operator, OperatorToken

HubRole = Literal["operator", "admin"]
ROLES: tuple[HubRole, ...] = ("operator", "admin")
MIN_PASSWORD_LENGTH = 10
FREE_FAILURES = 5  # wrong passwords for one name before the waits begin
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
TOKEN_PREFIX = "hub_"  # noqa: S105 (a marker, not a secret)
_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Checked when the name is unknown, so unknown names take as long as known ones."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def allows(role: str, needed: HubRole) -> bool:
    """An admin may do what an operator may."""
    return role == "admin" or role == needed


def add_operator(
    db: HubDatabase, name: str, password: str, role: HubRole, now: datetime
) -> Operator:
    if not 1 <= len(name) <= 64 or not name.isprintable() or name.strip() != name:
        raise InvalidName(f"{name!r} cannot be an account name")
    if role not in ROLES:
        raise InvalidName(f"no role {role!r}: {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    with db.transaction() as session:
        if session.get(Operator, name) is not None:
            raise AlreadyExists("account", name)
        row = Operator(name=name, password_hash=_HASHER.hash(password), role=role, created_at=now)
        session.add(row)
    return row


def login(db: HubDatabase, name: str, password: str, now: datetime, ttl: timedelta) -> str:
    """A new bearer token for the account, or LoginFailed (TooManyAttempts after
    ``FREE_FAILURES`` wrong passwords for that name, with waits doubling up to
    ``MAX_DELAY``; unknown names are counted alike)."""
    with db.transaction() as session:
        failures = session.get(LoginFailure, name, with_for_update=True)
        if failures is not None and failures.failures >= FREE_FAILURES:
            wait = _delay(failures.failures)
            if now < failures.last_at + wait:
                left = (failures.last_at + wait - now).total_seconds()
                raise TooManyAttempts(left)
        row = session.get(Operator, name)
        try:
            _HASHER.verify(row.password_hash if row else _dummy_hash(), password)
            ok = row is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            if failures is None:
                session.add(LoginFailure(name=name, failures=1, last_at=now))
            else:
                failures.failures += 1
                failures.last_at = now
            token = ""
        else:
            if failures is not None:
                session.delete(failures)
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            session.execute(
                delete(OperatorToken).where(
                    col(OperatorToken.operator) == name, col(OperatorToken.expires_at) <= now
                )
            )
            session.add(
                OperatorToken(
                    token_hash=_token_hash(token),
                    operator=name,
                    created_at=now,
                    expires_at=now + ttl,
                )
            )
    if not token:  # the failure is counted (committed) before the answer
        raise LoginFailed()
    return token


def _delay(failures: int) -> timedelta:
    extra = failures - FREE_FAILURES
    factor: int = 2 ** min(extra, 20)
    return min(MAX_DELAY, BASE_DELAY * factor)


def authenticate(db: HubDatabase, token: str, needed: HubRole, now: datetime) -> Operator:
    """The account behind a bearer token, if its role allows ``needed``."""
    with db.transaction() as session:
        found = session.get(OperatorToken, _token_hash(token))
        if found is None or found.expires_at <= now:
            raise NotAuthenticated("Sign in first (POST /api/v1/auth/token).")
        operator = session.get(Operator, found.operator)
        if operator is None:
            raise NotAuthenticated("Sign in first (POST /api/v1/auth/token).")
        if not allows(operator.role, needed):
            raise Forbidden(f"This needs the {needed} role; {operator.name} is {operator.role}.")
        return operator


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
