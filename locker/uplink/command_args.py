"""The arguments each command type carries: the one contract both sides check, the hub
before it signs a command and the station before it applies one.

No type here opens a door: there is no such command.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from locker.payments.amounts import MAX_CENTS
from locker.types import SizeClass


class CommandArgs(BaseModel):
    """Every command's arguments: nothing unknown, text without blanks around it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AnnounceArgs(CommandArgs):
    carrier: str = Field(min_length=1, max_length=100)
    tracking_number: str = Field(min_length=1, max_length=100)
    recipient_name: str = Field(min_length=1, max_length=200)
    recipient_email: str | None = Field(default=None, max_length=254)
    recipient_phone: str | None = Field(default=None, max_length=40)
    recipient_language: str = Field(default="en", pattern="^(en|de)$")
    size: SizeClass | None = None
    accessible: bool = False
    # Pay at pick-up: integer cents (left out: nothing due), never a card or a secret.
    amount_due: int | None = Field(default=None, ge=0, le=MAX_CENTS, strict=True)


class ExtendArgs(CommandArgs):
    parcel_id: int | None = Field(default=None, ge=1)
    tracking_number: str | None = Field(default=None, min_length=1, max_length=100)
    until: datetime

    @model_validator(mode="after")
    def _one_parcel(self) -> ExtendArgs:
        if (self.parcel_id is None) == (self.tracking_number is None):
            raise ValueError("give either parcel_id or tracking_number")
        return self


class OutOfServiceArgs(CommandArgs):
    compartment_id: int = Field(ge=1)
    reason: str = Field(min_length=1, max_length=500)


class BackInServiceArgs(CommandArgs):
    compartment_id: int = Field(ge=1)
    note: str = Field(default="", max_length=500)


class RevokeArgs(CommandArgs):
    name: str = Field(min_length=1, max_length=100)


class GrantArgs(CommandArgs):
    grant_id: str = Field(pattern="^[0-9a-f]{32}$")
    operator: str = Field(min_length=1, max_length=64)
    role: str = Field(max_length=16)
    expires_at: datetime
    sig: str = Field(max_length=64)


class RevokeGrantArgs(CommandArgs):
    grant_id: str = Field(pattern="^[0-9a-f]{32}$")


class NoArgs(CommandArgs):
    pass


class ResendArgs(CommandArgs):
    from_seq: int = Field(ge=1)
