"""Who is calling: a signed-in account (:class:`Principal`), the password rules, and the
errors of proving who one is.

Passwords are kept only as argon2 hashes; nothing ships with a default password.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from locker.errors import DomainError
from locker.store.tables import Account
from locker.types import Role

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD_LENGTH = 10


@cache
def hasher() -> PasswordHasher:
    """The argon2 hasher, loaded with the first password set or checked (a start checks
    none: issue 29, the small computer's budget)."""
    from argon2 import PasswordHasher

    return PasswordHasher()


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


def principal_of(account: Account) -> Principal:
    """The caller an account row stands for."""
    assert account.id is not None
    return Principal(account.id, account.name, account.role, account.carrier)


def check_password(password: str) -> None:
    """Refuse a password that is too short (:class:`WeakPassword`)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
