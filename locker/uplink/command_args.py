"""The arguments each command type carries: the one contract both sides check, the hub
before it signs a command and the station before it applies one. What a station cannot
store (a number past SQLite's 64-bit INTEGER, a time without its UTC offset or past the
year 9999 in UTC, a text with a control or invisible format character) is refused at the
hub, never signed and sent.

No type here opens a door: there is no such command.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from common.text import printable
from locker.payments.amounts import MAX_CENTS
from locker.types import ColdKind, SizeClass

MAX_INT = 2**63 - 1  # SQLite's INTEGER (64-bit signed): no row of a station has a bigger id


def _storable(value: datetime) -> datetime:
    """A time the station can compare and store: in UTC within the years 1 to 9999."""
    try:
        value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:59-14:00 is past year 9999 in UTC
        raise ValueError("the time is out of range") from exc
    return value


RowId = Annotated[int, Field(ge=1, le=MAX_INT)]  # a compartment's or a parcel's number
Moment = Annotated[AwareDatetime, AfterValidator(_storable)]  # with its UTC offset


class CommandArgs(BaseModel):
    """Every command's arguments: nothing unknown, text without blanks around it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: object) -> object:
        if isinstance(value, str):
            printable(value)
        return value


class AnnounceArgs(CommandArgs):
    carrier: str = Field(min_length=1, max_length=100)
    tracking_number: str = Field(min_length=1, max_length=100)
    recipient_name: str = Field(min_length=1, max_length=200)
    recipient_email: str | None = Field(default=None, max_length=254)
    recipient_phone: str | None = Field(default=None, max_length=40)
    recipient_language: str = Field(default="en", pattern="^(en|de)$")
    size: SizeClass | None = None
    accessible: bool = False
    cold: ColdKind | None = None  # chilled or frozen goods
    # Pay at pick-up: integer cents (left out: nothing due), never a card or a secret.
    amount_due: int | None = Field(default=None, ge=0, le=MAX_CENTS, strict=True)


class ExtendArgs(CommandArgs):
    parcel_id: RowId | None = None
    tracking_number: str | None = Field(default=None, min_length=1, max_length=100)
    until: Moment

    @model_validator(mode="after")
    def _one_parcel(self) -> ExtendArgs:
        if (self.parcel_id is None) == (self.tracking_number is None):
            raise ValueError("give either parcel_id or tracking_number")
        return self


class OutOfServiceArgs(CommandArgs):
    compartment_id: RowId
    reason: str = Field(min_length=1, max_length=500)


class BackInServiceArgs(CommandArgs):
    compartment_id: RowId
    note: str = Field(default="", max_length=500)


class RevokeArgs(CommandArgs):
    name: str = Field(min_length=1, max_length=100)


class GrantArgs(CommandArgs):
    grant_id: str = Field(pattern="^[0-9a-f]{32}$")
    operator: str = Field(min_length=1, max_length=64)
    role: str = Field(max_length=16)
    expires_at: Moment
    sig: str = Field(max_length=64)


class RevokeGrantArgs(CommandArgs):
    grant_id: str = Field(pattern="^[0-9a-f]{32}$")


class NoArgs(CommandArgs):
    pass


class ResendArgs(CommandArgs):
    from_seq: RowId
