"""Request and answer bodies of the HTTP API (they make the OpenAPI document): the checks
every body shares (:class:`RequestBody`), parcels, doors, codes, compartments and the
audit log. Accounts, the station's own health and the directory have modules of their
own beside this one (``schemas_accounts``, ``schemas_system``, ``schemas_directory``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api.deferred import Model
from common.text import SECRET_FIELDS, printable
from common.text import unprintable as unprintable  # what a person cannot see as typed
from locker.types import (
    ColdKind,
    CompartmentState,
    Condition,
    ParcelKind,
    ParcelState,
    SizeClass,
)

Text = Field(min_length=1, max_length=200)
Language = Literal["en", "de"]
MAX_ID = 2**63 - 1  # SQLite's largest integer: no row has a bigger id


def _convertible(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:59-14:00 is past year 9999 in UTC
        raise ValueError("the time is out of range") from exc
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_8601(value: object) -> object:
    """Only what the document says: an ISO 8601 time (pydantic would also take a number
    of seconds since 1970, e.g. ``since=0``)."""
    if isinstance(value, int | float) or (isinstance(value, str) and not _ISO_DATE.match(value)):
        raise ValueError("give the time in ISO 8601, e.g. 2026-07-01T12:00:00Z")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_convertible)]


PlainText = Annotated[str, AfterValidator(printable)]  # for Query(), Form(), Path() texts


class RequestBody(Model):
    """A request body. Its booleans and numbers are strict: "true" or "5" in JSON is refused,
    as the document says, instead of being read as true or 5. No text in it may hold
    control or invisible format characters (:func:`printable`), passwords aside."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: object, info: ValidationInfo) -> object:
        if info.field_name in SECRET_FIELDS:
            return value
        if isinstance(value, str):
            return printable(value)
        if isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, str):
                    printable(item)
        return value


class Dimensions(RequestBody):
    width_mm: StrictInt = Field(gt=0, le=3000)
    height_mm: StrictInt = Field(gt=0, le=3000)
    depth_mm: StrictInt = Field(gt=0, le=3000)


class ParcelIn(RequestBody):
    """A parcel as the courier describes it: a size class, its dimensions, or both."""

    tracking_number: str = Field(min_length=1, max_length=64)
    recipient_name: str = Field(
        default="", max_length=200, description="needed unless recipient_id is given"
    )
    recipient_email: str | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    )
    recipient_phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ()/-]{3,}$")
    size: SizeClass | None = None
    dimensions: Dimensions | None = None
    needs_accessible: StrictBool = False
    needs_cooling: StrictBool = Field(
        default=False, description="the older way of saying cold = chilled"
    )
    cold: ColdKind | None = Field(
        default=None,
        description="chilled or frozen: only a compartment of that kind takes it (none free: "
        "no_free_chilled_compartment / no_free_frozen_compartment), and it waits less",
    )
    recipient_language: Language = Field(default="en", description="for the messages")
    recipient_id: StrictInt | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="a person of the directory (GET /directory/search): the parcel takes "
        "their name, contact, language, accessibility need and channels",
    )
    recipient_unknown: StrictBool = Field(
        default=False,
        description="nobody in the directory fits: the parcel is stored without a code and "
        "nobody is told until staff assign it (POST /parcels/{id}/assign) or send it back",
    )
    amount_due: StrictInt | StrictFloat | StrictStr = Field(
        default=0,
        description="pay at pick-up: integer cents (2040 is 20.40), fixed when the code is "
        "issued; anything but a whole number from 0 is refused (amount_invalid)",
    )

    @model_validator(mode="after")
    def _size_or_dimensions(self) -> Self:
        if self.size is None and self.dimensions is None:
            raise ValueError("give the parcel's size class or its dimensions")
        if self.recipient_id is not None and self.recipient_unknown:
            raise ValueError("give recipient_id or recipient_unknown, not both")
        if self.recipient_id is None and not self.recipient_name:
            raise ValueError("give the recipient's name, or recipient_id")
        return self


FITS_BESIDE = (
    "the courier says the parcel fits beside the one already waiting for the same recipient "
    "(same directory entry, e-mail address or phone number; same carrier): that compartment "
    "opens again instead of a new one. Without such a parcel, a compartment of its own."
)


class AnnounceIn(ParcelIn):
    reserve: StrictBool = Field(
        default=False, description="also hold a compartment now (for the reservation time)"
    )
    fits_beside: StrictBool = Field(default=False, description=FITS_BESIDE)


class DepositIn(RequestBody):
    """Either an announced parcel's id, or a new parcel."""

    parcel_id: StrictInt | None = Field(default=None, ge=1, le=MAX_ID)
    parcel: ParcelIn | None = None
    fits_beside: StrictBool = Field(default=False, description=FITS_BESIDE)

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.parcel_id is None) == (self.parcel is None):
            raise ValueError("give either parcel_id or parcel")
        return self


class Where(Model):
    """Where a compartment is on the station's front."""

    column: int = Field(description="1 = leftmost column")
    columns: int
    row: int = Field(description="1 = top of its column")
    rows: int
    height: Literal["top", "middle", "bottom"]
    text: str = Field(examples=["second column from the left, bottom"])


class CompartmentOut(Model):
    id: int
    size: SizeClass
    width_mm: int
    height_mm: int
    depth_mm: int
    accessible: bool
    cooled: bool
    cold: ColdKind | None = Field(description="chilled, frozen, or none (ambient)")
    cold_group: str | None
    state: CompartmentState
    condition: Condition
    note: str
    parcel_id: int | None
    door_busy: bool
    where: Where


class ParcelOut(Model):
    id: int
    state: ParcelState
    carrier: str
    tracking_number: str
    recipient_name: str
    recipient_email: str | None
    recipient_phone: str | None
    size: SizeClass | None
    dimensions: Dimensions | None
    needs_accessible: bool
    needs_cooling: bool
    cold: ColdKind | None
    compartment_id: int | None
    courier: str | None
    created_at: datetime
    reserved_until: datetime | None
    stored_at: datetime | None
    deadline: datetime | None
    finished_at: datetime | None
    kind: ParcelKind
    recipient_language: str
    extensions: int = Field(description="how often the recipient gave themselves more time")
    flagged: str = Field(description="why staff must look at it (empty: nothing)")
    # Issue 17 (second half): a shared compartment, holds, erased personal data.
    beside_parcel_id: int | None = Field(
        default=None, description="it lies beside this parcel, in that one's compartment"
    )
    held_until: datetime | None = Field(
        default=None, description="the recipient is away: no reminders until then"
    )
    hold_days: int = Field(default=0, description="days the recipient held it (in all)")
    amount_due: int = Field(default=0, description="cents to pay at pick-up (0: nothing)")
    currency: str = "EUR"
    erased_at: datetime | None = Field(
        default=None, description="its personal data was erased (a pseudonym is left)"
    )
    recipient_id: int | None = Field(default=None, description="the directory's person")
    recipient_unknown: bool = Field(
        default=False, description="stored for nobody found: staff assign it or send it back"
    )
    notify_by: Literal["mail", "sms", "both"] | None = Field(
        default=None, description="the person's channels (None: every one its contact allows)"
    )


class DoorOut(Model):
    compartment_id: int
    outcome: Literal["opened", "refused", "no_answer", "unknown"]
    opened: bool
    where: Where
    parcel_ids: list[int] = []


class DepositOut(Model):
    parcel: ParcelOut
    door: DoorOut
    next: str


class CodeSentOut(Model):
    """A new code was made and sent to the recipient (staff do not see it)."""

    parcel_id: int
    sent_by: list[str] = Field(description="mail and/or sms (the shop's webhook)")
    detail: str


class CodeOut(Model):
    """A pickup code in clear text: shown once, never stored by the station."""

    pin: str
    qr_token: str
    expires_at: datetime
    opens_parcels: list[int] = Field(description="every parcel this code opens")
    qr_png: str = Field(description="POST {qr_token} here for the QR image as PNG")
    qr_svg: str = Field(description="POST {qr_token} here for the QR image as SVG")


class ConfirmOut(Model):
    parcel: ParcelOut
    code: CodeOut | None
    detail: str


class CollectIn(RequestBody):
    code: str = Field(min_length=1, max_length=200, description="the PIN or the QR token")


class CollectionOut(Model):
    doors: list[DoorOut]
    all_opened: bool
    message: str
    next: list[str]


class ReasonIn(RequestBody):
    reason: str = Field(min_length=1, max_length=500)


class SecondStaffIn(RequestBody):
    """A second staff member confirms an opening with their own name and password."""

    name: str = Text
    password: str = Field(min_length=1, max_length=200)


class DoorOpenIn(RequestBody):
    reason: str = Field(
        default="", max_length=500, description="required: why (goes to the audit log)"
    )
    second_staff: SecondStaffIn | None = Field(
        default=None,
        description="needed once staff opened the limit of doors within the window "
        "(problem second_staff_required); never the caller's own account; admins need none",
    )


class OpenAllIn(RequestBody):
    reason: str = Field(
        default="", max_length=500, description="required: why (goes to the audit log)"
    )


class OpenAllDoorOut(Model):
    compartment_id: int
    result: Literal["opened", "not_opened", "skipped"]
    detail: str = Field(description="the outcome, or why the door was skipped")


class OpenAllOut(Model):
    opened: int
    not_opened: int
    skipped: int
    doors: list[OpenAllDoorOut]


class NoteIn(RequestBody):
    note: str = Field(default="", max_length=500)


class ExtendIn(RequestBody):
    until: Moment | None = None
    days: StrictFloat | None = Field(default=None, gt=0, le=90)

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.until is None) == (self.days is None):
            raise ValueError("give either until or days")
        return self


class AuditOut(Model):
    id: int
    at: datetime
    actor: str
    action: str
    compartment_id: int | None
    parcel_id: int | None
    detail: str


class AlertOut(Model):
    id: int
    kind: str
    compartment_id: int | None
    detail: str
    raised_at: datetime


class CompartmentDetailOut(Model):
    compartment: CompartmentOut
    parcel: ParcelOut | None
    history: list[AuditOut]
    alerts: list[AlertOut]


FailureKindOut = Literal["bad_checksum", "torn_frame", "silence"]


# -- the directory (people the station knows) -----------------------------------------------
NotifyBy = Literal["mail", "sms", "both"]
