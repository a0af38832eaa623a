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

from fleet import sign_in_limits
from fleet.db import HubDatabase
from fleet.errors import (
    AlreadyExists,
    Forbidden,
    InvalidName,
    LoginFailed,
    NotAuthenticated,
    WeakPassword,
)
from fleet.tables import Operator, OperatorToken

HubRole = Literal["operator", "admin"]
ROLES: tuple[HubRole, ...] = ("operator", "admin")
MIN_PASSWORD_LENGTH = 10
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


def login(
    db: HubDatabase,
    name: str,
    password: str,
    now: datetime,
    ttl: timedelta,
    address: str | None = None,
) -> str:
    """A new bearer token for the account, or LoginFailed; TooManyAttempts once the name
    from this client's network, or the network itself, has had its wrong passwords
    (:mod:`fleet.sign_in_limits`; unknown names are counted alike). The attempt is counted
    before the password is checked, so parallel tries are each counted."""
    network = sign_in_limits.network_of(address)
    with db.transaction() as session:
        sign_in_limits.take_attempt(session, name, network, now)
    with db.transaction() as session:
        row = session.get(Operator, name)
    try:
        _HASHER.verify(row.password_hash if row else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        row = None
    if row is None:
        raise LoginFailed()  # its failure was counted (committed) before the check
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as session:
        sign_in_limits.signed_in(session, name, network)
        session.execute(
            delete(OperatorToken).where(
                col(OperatorToken.operator) == name, col(OperatorToken.expires_at) <= now
            )
        )
        session.add(
            OperatorToken(
                token_hash=token_hash(token),
                operator=name,
                created_at=now,
                expires_at=now + ttl,
            )
        )
    return token


def authenticate(db: HubDatabase, token: str, needed: HubRole, now: datetime) -> Operator:
    """The account behind a bearer token, if its role allows ``needed``."""
    with db.transaction() as session:
        found = session.get(OperatorToken, token_hash(token))
        if found is None or found.expires_at <= now:
            raise NotAuthenticated("Sign in first (POST /api/v1/auth/token).")
        operator = session.get(Operator, found.operator)
        if operator is None:
            raise NotAuthenticated("Sign in first (POST /api/v1/auth/token).")
        if not allows(operator.role, needed):
            raise Forbidden(f"This needs the {needed} role; {operator.name} is {operator.role}.")
        return operator


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
