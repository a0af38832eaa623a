"""Bodies and answers of accounts, sign-in, tokens and sessions, and the kiosk devices."""

from __future__ import annotations

from datetime import datetime

from pydantic import (
    Field,
)

from api.deferred import Model
from api.schemas import RequestBody, Text
from locker.types import Role


class AccountOut(Model):
    id: int
    name: str
    role: Role
    carrier: str | None
    active: bool = True


class SignInIn(RequestBody):
    name: str = Text
    password: str = Field(min_length=1, max_length=200)
    new_password: str | None = Field(
        default=None, max_length=200, description="required when the password was one-time"
    )


class TokenIn(SignInIn):
    label: str = Field(default="", max_length=100)


class TokenOut(Model):
    token: str = Field(description="send as 'Authorization: Bearer <token>'; shown once")
    expires_at: datetime = Field(description="the token stops working then; sign in again")
    account: AccountOut


class SessionOut(Model):
    csrf_token: str = Field(description="send as X-CSRF-Token with every change")
    expires_at: datetime
    account: AccountOut


class AccountIn(RequestBody):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    role: Role
    carrier: str | None = Field(default=None, max_length=100)


class NewAccountOut(Model):
    account: AccountOut
    one_time_password: str = Field(description="must be replaced at the first sign-in")
    token: str | None = Field(description="couriers: a first bearer token; shown once")


class KioskDeviceIn(RequestBody):
    name: str = Field(min_length=1, max_length=40, examples=["kiosk"])


class KioskDeviceOut(Model):
    name: str
    paired_by: str
    paired_at: datetime
    last_seen_at: datetime | None


class PairedKioskOut(Model):
    name: str
    token: str = Field(description="The device token, shown once: paste it at /kiosk/pair.")
    pair_at: str = "/kiosk/pair"
