"""Accounts of couriers, staff and admins: passwords, bearer tokens and browser sessions.

Passwords are kept only as argon2 hashes; bearer tokens, session ids and CSRF tokens are
random (:mod:`secrets`) and kept only as keyed hashes, like pickup codes. Nothing ships
with a default password: the first admin gets a one-time password, which must be
replaced at the first sign-in. Wrong passwords are limited per account name and per
client address with the same growing delays as wrong pickup codes. Every bearer token
ends (a signed-in script's after hours, a courier device's after months) and can be
revoked; a new or reset password revokes every token and ends every session of the
account.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from locker.audit import record
from locker.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    SecondStaffInvalid,
    SecondStaffSamePerson,
)
from locker.people import attempts
from locker.people.attempts import AttemptPolicy
from locker.station import Station
from locker.store.tables import Account, ApiToken, StaffSession
from locker.types import Role

MIN_PASSWORD_LENGTH = 10
LOGIN_POLICY = AttemptPolicy(free_failures=5, base_delay_s=30.0, max_delay_s=900.0)
# One client address trying many names (a password sprayed over every account).
LOGIN_FROM_POLICY = AttemptPolicy(free_failures=20, base_delay_s=30.0, max_delay_s=900.0)
DEVICE_TOKEN_TTL = timedelta(days=90)  # a new courier's first token, for their device
TOUCH_EVERY = timedelta(minutes=5)  # how stale a token's last_used_at may get
TOKEN_PREFIX = "lps_"  # noqa: S105 (a marker, not a secret): makes a leaked token easy to recognise in logs and scanners
_HASHER = PasswordHasher()
# Checked instead when the name is unknown, so unknown names are as slow as known ones:
# the hash of a random password nobody kept, made once with the hasher's parameters
# (tests/locker/test_accounts.py checks they still match), so no start pays for hashing.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$vZiwIMio98t3GDEGA2PoZA$6xticKpT0iB3rv37wYEQeACPxnP0cncjgUMfv1nMEUU"  # noqa: S105, E501


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class PasswordChangeRequired(DomainError):
    code = "password_change_required"
    status = 403

    def __init__(self, ticket: str = "") -> None:
        super().__init__(
            "This password was for one sign-in only: send new_password to choose your own."
        )
        # the one-time password was right: this ticket lets the person choose their own
        # without typing it again (see choose_first_password); never part of an API answer
        self.ticket = ticket


class FirstSignInExpired(DomainError):
    code = "not_authenticated"
    status = 401


class AccountExists(DomainError):
    code = "account_exists"
    status = 409


class WeakPassword(DomainError):
    code = "weak_password"
    status = 422


@dataclass(frozen=True)
class Principal:
    """Who is calling: an active account, and how it proved it."""

    account_id: int
    name: str
    role: Role
    carrier: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"{self.role.value}:{self.name}"

    def has(self, *roles: Role) -> bool:
        """Admins may do everything staff may do."""
        return self.role in roles or (self.role is Role.ADMIN and Role.STAFF in roles)


@dataclass(frozen=True)
class NewAccount:
    principal: Principal
    password: str | None  # the generated one-time password, shown once
    token: str | None  # a courier's first bearer token, shown once


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


def _principal(account: Account) -> Principal:
    assert account.id is not None
    return Principal(account.id, account.name, account.role, account.carrier)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


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
        _check_password(password)
    now = station.now()
    with station.db.write() as session:
        if session.exec(select(Account.id).where(Account.name == name)).first() is not None:
            raise AccountExists(f"an account named {name!r} exists already")
        account = Account(
            name=name,
            role=role,
            carrier=carrier.strip() if carrier else None,
            password_hash=_HASHER.hash(password),
            must_change_password=one_time,
            created_at=now,
        )
        session.add(account)
        session.flush()
        record(session, actor=actor, action="account.created", now=now, detail=f"{role}:{name}")
        principal = _principal(account)
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


def sign_in(
    station: Station,
    *,
    name: str,
    password: str,
    new_password: str | None = None,
    client: str = "local",
) -> Principal:
    """Check a password (with growing delays after wrong ones); replace it if asked.

    Wrong passwords are limited per account name and per client address. The attempt is
    counted as a failure before the (slow) argon2 check and refunded if the password is
    right, so parallel guesses cannot slip past the limits, and the database's write lock
    is never held while a password is hashed.
    """
    if new_password is not None:
        _check_password(new_password)  # before anything is counted
    now = station.now()
    scopes = (f"login:{name}", f"login-from:{client}")
    with station.db.write() as session:
        attempts.check(session, LOGIN_POLICY, scopes[0], now, station_wide=False)
        attempts.check(session, LOGIN_FROM_POLICY, scopes[1], now, station_wide=False)
        for scope in scopes:
            attempts.failed(session, scope, now, station_wide=False)
        account = session.exec(select(Account).where(Account.name == name)).first()
    stored = account.password_hash if account and account.active else None
    right = _verify(stored, password) and account is not None
    new_hash = _HASHER.hash(new_password) if right and new_password is not None else None
    rehash = (
        _HASHER.hash(password)
        if right and new_hash is None and _HASHER.check_needs_rehash(stored or "")
        else None
    )
    with station.db.write() as session:
        current = session.exec(select(Account).where(Account.name == name)).first()
        if (
            not right
            or current is None
            or not current.active
            or current.password_hash != stored  # changed while this one was checked
        ):
            record(session, actor=f"login:{name}", action="login.rejected", now=now)
            current = None
        else:
            attempts.succeeded(session, scopes[0])
            attempts.refunded(session, scopes[1])
            if new_hash is not None:
                current.password_hash = new_hash
                current.must_change_password = False
                assert current.id is not None
                _sign_out_everywhere(session, current.id, now)
                record(session, actor=f"{current.role}:{name}", action="password.changed", now=now)
            elif rehash is not None:
                current.password_hash = rehash
            session.add(current)
    if current is None:
        raise NotAuthenticated("wrong name or password")
    if current.must_change_password:
        raise PasswordChangeRequired(_first_password_ticket(station, current, now))
    return _principal(current)


FIRST_PASSWORD_TICKET_TTL = timedelta(minutes=10)


def _ticket_mac(station: Station, account_id: int, expires: int, password_hash: str) -> str:
    return station.hasher.secret("first-password", f"{account_id}.{expires}.{password_hash}")


def _first_password_ticket(station: Station, account: Account, now: datetime) -> str:
    """Proof that the one-time password of ``account`` was just typed right: keyed to the
    station's secret and to that password's hash, so it ends when the password changes
    and after FIRST_PASSWORD_TICKET_TTL."""
    assert account.id is not None
    expires = int((now + FIRST_PASSWORD_TICKET_TTL).timestamp())
    return f"{account.id}.{expires}." + _ticket_mac(
        station, account.id, expires, account.password_hash or ""
    )


def choose_first_password(station: Station, *, ticket: str, new_password: str) -> Principal:
    """The second step of a first sign-in: the one-time password was accepted (``ticket``
    from :class:`PasswordChangeRequired`); set the person's own password and sign in."""
    _check_password(new_password)
    now = station.now()
    expired = FirstSignInExpired("the first sign-in took too long: sign in again")
    parts = ticket.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise expired
    account_id, expires, mac = int(parts[0]), int(parts[1]), parts[2]
    if expires < now.timestamp() or account_id > 2**63 - 1:
        raise expired
    with station.db.read() as session:
        account = session.get(Account, account_id)
        stored = (account.password_hash or "") if account is not None else ""
    if (
        account is None
        or not account.active
        or not account.must_change_password
        or not secrets.compare_digest(mac, _ticket_mac(station, account_id, expires, stored))
    ):
        raise expired
    new_hash = _HASHER.hash(new_password)
    with station.db.write() as session:
        current = session.get(Account, account_id)
        if current is None or (current.password_hash or "") != stored or not current.active:
            raise expired  # changed meanwhile (a second tab, a reset)
        current.password_hash = new_hash
        current.must_change_password = False
        session.add(current)
        _sign_out_everywhere(session, account_id, now)
        record(session, actor=f"{current.role}:{current.name}", action="password.changed", now=now)
        return _principal(current)


def confirm_second_staff(
    station: Station, first: Principal, *, name: str, password: str, client: str = "local"
) -> Principal:
    """A second staff member (or an admin) confirms what ``first`` does with their own name
    and password: checked as at sign-in (argon2, the same attempt limits), and never the
    same person as ``first``."""
    if name.strip() == first.name:
        raise SecondStaffSamePerson("a second, different staff member must confirm this")
    try:
        second = sign_in(station, name=name.strip(), password=password, client=client)
    except (NotAuthenticated, PasswordChangeRequired) as exc:
        raise SecondStaffInvalid("the confirming staff member's name or password is wrong") from exc
    if second.account_id == first.account_id:
        raise SecondStaffSamePerson("a second, different staff member must confirm this")
    if not second.has(Role.STAFF):
        raise SecondStaffInvalid("only staff or an admin may confirm this")
    return second


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


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
    return _principal(account)


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
    return _principal(account), csrf_ok


def end_session(station: Station, session_id: str) -> None:
    digest = station.hasher.secret("session", session_id)
    with station.db.write() as session:
        row = session.exec(select(StaffSession).where(StaffSession.session_hash == digest)).first()
        if row is not None:
            session.delete(row)


def accounts(station: Station) -> list[tuple[Principal, bool]]:
    """Every account, with whether it is active."""
    with station.db.read() as session:
        rows = session.exec(select(Account).order_by(col(Account.id))).all()
        return [(_principal(row), row.active) for row in rows]


def deactivate(station: Station, *, account_id: int, actor: str) -> None:
    """Switch an account off: its tokens are revoked and its sessions ended at once."""
    now = station.now()
    with station.db.write() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise NotFound("account", account_id)
        account.active = False
        session.add(account)
        _sign_out_everywhere(session, account_id, now)
        record(session, actor=actor, action="account.deactivated", now=now, detail=account.name)


def revoke_courier(station: Station, *, name: str, actor: str) -> None:
    """End every token and session of a courier account (it stays, and may sign in again)."""
    now = station.now()
    with station.db.write() as session:
        account = session.exec(select(Account).where(Account.name == name)).first()
        if account is None or account.role is not Role.COURIER or account.id is None:
            raise NotFound("courier", name)
        _sign_out_everywhere(session, account.id, now)
        record(session, actor=actor, action="courier.revoked", now=now, detail=name)


def reset_password(station: Station, *, name: str, actor: str) -> str:
    """A new one-time password for an account (its tokens and sessions end); returned once."""
    password = secrets.token_urlsafe(12)
    now = station.now()
    with station.db.write() as session:
        account = session.exec(select(Account).where(Account.name == name)).first()
        if account is None:
            raise NotFound("account", name)
        account.password_hash = _HASHER.hash(password)
        account.must_change_password = True
        session.add(account)
        assert account.id is not None
        _sign_out_everywhere(session, account.id, now)
        record(session, actor=actor, action="password.reset", now=now, detail=name)
    return password


def _sign_out_everywhere(session: Session, account_id: int, now: datetime) -> None:
    """Revoke every live token of an account and end its browser sessions."""
    session.exec(
        update(ApiToken)
        .where(col(ApiToken.account_id) == account_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    session.exec(delete(StaffSession).where(col(StaffSession.account_id) == account_id))
