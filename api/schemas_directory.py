"""Bodies and answers of the directory: the people the station knows."""

from __future__ import annotations

from datetime import datetime

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
)

from api.deferred import Model
from api.schemas import MAX_ID, Language, NotifyBy, RequestBody


class RecipientIn(RequestBody):
    """A person of the directory. ``notify_by`` "mail" needs ``email``, "sms" (through the
    shop's webhook) needs ``phone``, "both" needs both."""

    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(default="", max_length=40, description="flat or customer number")
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ()/-]{3,}$")
    language: Language = "en"
    needs_accessible: StrictBool = Field(default=False, description="a low compartment")
    notify_by: NotifyBy = "mail"
    staff_note: str = Field(default="", max_length=500, description="for staff only")


class RecipientOut(Model):
    id: int
    name: str
    unit: str
    email: str | None
    phone: str | None
    language: str
    needs_accessible: bool
    notify_by: str
    staff_note: str
    created_at: datetime
    updated_at: datetime


class RecipientMatchOut(Model):
    """A person a courier may choose: only a name, a flat or customer number and an id."""

    id: int
    name: str
    unit: str


class ImportOut(Model):
    created: int
    updated: int


class AssignIn(RequestBody):
    recipient_id: StrictInt = Field(ge=1, le=MAX_ID)
