"""Signing in with a name and a password, a first sign-in's own password, and a second
staff member's confirmation.

Wrong passwords are limited per account name and per client address with the same growing
delays as wrong pickup codes; an unknown name costs as much time as a known one.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import select

from locker.audit import record
from locker.errors import SecondStaffInvalid, SecondStaffSamePerson
from locker.people import attempts, identity
from locker.people.attempts import AttemptPolicy
from locker.people.credentials import sign_out_everywhere
from locker.people.identity import (
    FirstSignInExpired,
    NotAuthenticated,
    PasswordChangeRequired,
    Principal,
    check_password,
    principal_of,
)
from locker.station import Station
from locker.store.tables import Account
from locker.types import Role

LOGIN_POLICY = AttemptPolicy(free_failures=5, base_delay_s=30.0, max_delay_s=900.0)
# One client address trying many names (a password sprayed over every account).
LOGIN_FROM_POLICY = AttemptPolicy(free_failures=20, base_delay_s=30.0, max_delay_s=900.0)
FIRST_PASSWORD_TICKET_TTL = timedelta(minutes=10)
# Checked instead when the name is unknown, so unknown names are as slow as known ones:
# the hash of a random password nobody kept, made once with the hasher's parameters
# (tests/locker/test_accounts.py checks they still match), so no start pays for hashing.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$vZiwIMio98t3GDEGA2PoZA$6xticKpT0iB3rv37wYEQeACPxnP0cncjgUMfv1nMEUU"  # noqa: S105, E501


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
        check_password(new_password)  # before anything is counted
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
    new_hash = identity.hasher().hash(new_password) if right and new_password is not None else None
    rehash = (
        identity.hasher().hash(password)
        if right and new_hash is None and identity.hasher().check_needs_rehash(stored or "")
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
                sign_out_everywhere(session, current.id, now)
                record(session, actor=f"{current.role}:{name}", action="password.changed", now=now)
            elif rehash is not None:
                current.password_hash = rehash
            session.add(current)
    if current is None:
        raise NotAuthenticated("wrong name or password")
    if current.must_change_password:
        raise PasswordChangeRequired(_first_password_ticket(station, current, now))
    return principal_of(current)


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
    check_password(new_password)
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
    new_hash = identity.hasher().hash(new_password)
    with station.db.write() as session:
        current = session.get(Account, account_id)
        if current is None or (current.password_hash or "") != stored or not current.active:
            raise expired  # changed meanwhile (a second tab, a reset)
        current.password_hash = new_hash
        current.must_change_password = False
        session.add(current)
        sign_out_everywhere(session, account_id, now)
        record(session, actor=f"{current.role}:{current.name}", action="password.changed", now=now)
        return principal_of(current)


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
    from argon2.exceptions import InvalidHashError, VerificationError  # loaded with the hasher

    try:
        return identity.hasher().verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
