"""Bearer tokens and browser sessions: made random (:mod:`secrets`), kept only as keyed
hashes, like pickup codes.

Every bearer token ends (a signed-in script's after hours, a courier device's after
months) and can be revoked; a new or reset password revokes every token and ends every
session of the account (:func:`sign_out_everywhere`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from locker.audit import record
from locker.people.identity import Principal, principal_of
from locker.station import Station
from locker.store.tables import Account, ApiToken, StaffSession

TOUCH_EVERY = timedelta(minutes=5)  # how stale a token's last_used_at may get
TOKEN_PREFIX = "lps_"  # noqa: S105 (a marker, not a secret): makes a leaked token easy to recognise in logs and scanners


@dataclass(frozen=True)
class BearerToken:
    """A new bearer token, in clear text once, and when it ends."""

    token: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionKeys:
    """A new browser session: the cookie value and the CSRF token, shown once."""

    session_id: str
    csrf_token: str
    expires_at: datetime


def issue_token(
    station: Station, principal: Principal, *, ttl: timedelta, label: str = ""
) -> BearerToken:
    """A new bearer token for the account, valid for ``ttl``."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = station.now()
    expires_at = now + ttl
    with station.db.write() as session:
        session.add(
            ApiToken(
                account_id=principal.account_id,
                token_hash=station.hasher.secret("token", token),
                label=label,
                created_at=now,
                expires_at=expires_at,
            )
        )
        record(session, actor=principal.actor, action="token.issued", now=now, detail=label)
    return BearerToken(token, expires_at)


def principal_for_token(station: Station, token: str) -> Principal | None:
    """The active account a bearer token belongs to, if the token is live."""
    digest = station.hasher.secret("token", token)
    now = station.now()
    with station.db.read() as session:
        found = session.exec(
            select(Account, ApiToken)
            .join(ApiToken, col(ApiToken.account_id) == col(Account.id))
            .where(ApiToken.token_hash == digest, col(ApiToken.revoked_at).is_(None))
        ).first()
    if found is None:
        return None
    account, row = found
    if not account.active or row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        with station.db.write() as session:
            session.exec(
                update(ApiToken).where(col(ApiToken.id) == row.id).values(last_used_at=now)
            )
    return principal_of(account)


def revoke_token(station: Station, token: str, *, actor: str) -> bool:
    """End one bearer token at once; False if it was not live."""
    digest = station.hasher.secret("token", token)
    now = station.now()
    with station.db.write() as session:
        row = session.exec(
            select(ApiToken).where(
                ApiToken.token_hash == digest, col(ApiToken.revoked_at).is_(None)
            )
        ).first()
        if row is None:
            return False
        row.revoked_at = now
        session.add(row)
        record(session, actor=actor, action="token.revoked", now=now, detail=row.label)
    return True


def start_session(station: Station, principal: Principal, *, ttl: timedelta) -> SessionKeys:
    """A new browser session for the account, valid for ``ttl``."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = station.now()
    expires_at = now + ttl
    with station.db.write() as session:
        session.add(
            StaffSession(
                account_id=principal.account_id,
                session_hash=station.hasher.secret("session", session_id),
                csrf_hash=station.hasher.secret("csrf", csrf),
                created_at=now,
                expires_at=expires_at,
            )
        )
        record(session, actor=principal.actor, action="session.started", now=now)
    return SessionKeys(session_id, csrf, expires_at)


def principal_for_session(
    station: Station, session_id: str, *, csrf_token: str | None = None
) -> tuple[Principal, bool] | None:
    """The account of a live session, and whether ``csrf_token`` is the session's."""
    digest = station.hasher.secret("session", session_id)
    with station.db.read() as session:
        found = session.exec(
            select(Account, StaffSession)
            .join(StaffSession, col(StaffSession.account_id) == col(Account.id))
            .where(StaffSession.session_hash == digest)
        ).first()
    if found is None:
        return None
    account, row = found
    if not account.active or row.expires_at <= station.now():
        return None
    csrf_ok = csrf_token is not None and secrets.compare_digest(
        station.hasher.secret("csrf", csrf_token), row.csrf_hash
    )
    return principal_of(account), csrf_ok


def end_session(station: Station, session_id: str) -> None:
    """Sign one browser session out."""
    digest = station.hasher.secret("session", session_id)
    with station.db.write() as session:
        row = session.exec(select(StaffSession).where(StaffSession.session_hash == digest)).first()
        if row is not None:
            session.delete(row)


def sign_out_everywhere(session: Session, account_id: int, now: datetime) -> None:
    """Revoke every live token of an account and end its browser sessions."""
    session.exec(
        update(ApiToken)
        .where(col(ApiToken.account_id) == account_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    session.exec(delete(StaffSession).where(col(StaffSession.account_id) == account_id))


def tokens_revoked_since(station: Station, account_id: int, since: datetime) -> int:
    """How many of the account's tokens that still worked were revoked at or after
    ``since``: what a new password just ended (the screen says so)."""
    with station.db.read() as session:
        return len(
            session.exec(
                select(ApiToken.id).where(
                    col(ApiToken.account_id) == account_id,
                    col(ApiToken.revoked_at) >= since,
                    col(ApiToken.expires_at) > since,
                )
            ).all()
        )
