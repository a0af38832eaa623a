"""Database rows (SQLModel). Rows never leave ``locker``: services return plain values.
What a compartment holds is not stored on the compartment: it follows from the parcels
that point at it, and partial unique indexes let at most one active parcel point at a
compartment and one live parcel have a carrier's tracking number (0016)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field

from locker.store.row import Row
from locker.types import (
    AlertKind,
    Channel,
    ColdKind,
    Condition,
    DeliveryState,
    DoorPurpose,
    ParcelKind,
    ParcelState,
    Role,
    SizeClass,
)

ACTIVE_PARCEL_STATES = (ParcelState.RESERVED, ParcelState.STORED, ParcelState.EXPIRED)
LIVE_PARCEL_STATES = _L = (ParcelState.ANNOUNCED, *ACTIVE_PARCEL_STATES)  # number taken
_LIVE: Any = {"unique": True, "sqlite_where": sa.text(f"state IN {tuple(map(str, _L))}")}


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; stored naive (SQLite has no zones)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _enum(
    enum: type[StrEnum], default: Any = None, *, index: bool = False, nullable: bool = False
) -> Any:
    """A column holding an enum's values (not its member names, SQLAlchemy's default)."""
    column_type = sa.Enum(
        enum,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        length=20,
        validate_strings=True,
    )
    return Field(default=default, sa_type=column_type, nullable=nullable, index=index)


def _when(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class Compartment(Row, table=True):
    id: int = Field(primary_key=True)
    condition: Condition = _enum(Condition, Condition.OK)
    note: str = ""  # why it is out of service or at fault
    retired: bool = False  # no longer in the layout; kept for the history


class PickupCodeRow(Row, table=True):
    __tablename__ = "pickup_code"

    id: int | None = Field(default=None, primary_key=True)
    pin_hash: str = Field(unique=True)
    qr_hash: str = Field(unique=True)
    created_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)
    used_at: datetime | None = _when()


class Parcel(Row, table=True):
    __table_args__ = (
        sa.Index(
            "one_active_parcel_per_compartment",
            "compartment_id",
            unique=True,
            # Not a parcel put beside its recipient's other one (triggers of 0010 check it).
            sqlite_where=sa.text(
                "state IN ('reserved', 'stored', 'expired') AND beside_parcel_id IS NULL"
            ),
        ),
        sa.Index("one_live_parcel_per_tracking_number", "carrier", "tracking_number", **_LIVE),
    )

    id: int | None = Field(default=None, primary_key=True)
    state: ParcelState = _enum(ParcelState, index=True)
    carrier: str
    tracking_number: str = Field(index=True)
    recipient_name: str
    recipient_phone: str | None = None
    recipient_email: str | None = None
    size: SizeClass | None = Field(
        default=None,
        sa_type=sa.Enum(
            SizeClass, values_callable=lambda e: [m.value for m in e], native_enum=False, length=4
        ),
    )
    width_mm: int | None = None
    height_mm: int | None = None
    depth_mm: int | None = None
    needs_accessible: bool = False
    needs_cooling: bool = False  # cold is not None (kept for older readers)
    cold: ColdKind | None = _enum(ColdKind, nullable=True)  # only into a compartment of its kind
    compartment_id: int | None = Field(default=None, foreign_key="compartment.id")
    code_id: int | None = Field(default=None, foreign_key="pickup_code.id", index=True)
    courier: str | None = None
    created_at: datetime = _when(nullable=False)
    reserved_until: datetime | None = _when()
    door_opened_at: datetime | None = _when()  # the courier's door opened; not stored yet
    # The board could not say whether the deposit's door opened: the watcher stores the
    # parcel only after it has seen the door open (or the IR strip sees the parcel).
    door_unconfirmed: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    stored_at: datetime | None = _when()
    deadline: datetime | None = _when(index=True)
    finished_at: datetime | None = _when()  # collected, returned or released for good
    kind: ParcelKind = Field(
        default=ParcelKind.DELIVERY,
        sa_type=sa.Enum(
            ParcelKind, values_callable=lambda e: [m.value for m in e], native_enum=False, length=20
        ),
        sa_column_kwargs={"server_default": "delivery"},
    )
    recipient_language: str = Field(default="en", sa_column_kwargs={"server_default": "en"})
    extensions: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # by the recipient
    flagged: str = Field(default="", sa_column_kwargs={"server_default": ""})  # why staff must look
    # The directory's person this parcel is for (None: typed by hand, or not known yet).
    recipient_id: int | None = Field(default=None, foreign_key="recipient.id", index=True)
    # Issue 17b (migration 0010): several parcels, one compartment; holds; retention.
    beside_parcel_id: int | None = None  # shares the compartment of this (first) parcel
    held_until: datetime | None = _when()  # the recipient is away: no reminders till then
    hold_days: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # used up
    erased_at: datetime | None = _when()  # its personal data was erased (a pseudonym left)
    # Directory deposits (migration 0009): the person's channels, copied from the directory
    # ("mail", "sms", "both"; None: typed by hand, every channel its contact allows), and a
    # parcel whose recipient the courier could not find: nobody is told until staff assign it.
    notify_by: str | None = None
    recipient_unknown: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Pay at pick-up (0015, locker.payments): integer cents, 0 = nothing due; its currency
    amount_due_cents: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    currency: str = Field(default="EUR", max_length=3, sa_column_kwargs={"server_default": "EUR"})


class Recipient(Row, table=True):
    """A person the station knows (the directory): staff keep it, couriers pick from it.
    Personal data, kept until staff erase the person; parcels copy what they need (name,
    contact, language, accessibility), so that erasing one never rewrites the other."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    unit: str = Field(default="", index=True)  # flat or customer number
    email: str | None = None
    phone: str | None = None
    language: str = "en"
    needs_accessible: bool = False
    notify_by: str = "mail"  # "mail", "sms" (the shop's webhook) or "both"
    staff_note: str = ""
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)


class DoorOp(Row, table=True):
    """A door opening: the intent is committed before the unlock, the outcome after."""

    __tablename__ = "door_op"

    id: int | None = Field(default=None, primary_key=True)
    compartment_id: int = Field(foreign_key="compartment.id", index=True)
    purpose: DoorPurpose = _enum(DoorPurpose)
    parcel_ids: str = ""  # comma-separated: one code may open several parcels' doors
    actor: str
    reason: str = ""
    created_at: datetime = _when(nullable=False)
    outcome: str | None = Field(default=None, index=True)
    finished_at: datetime | None = _when()


class AuditEntry(Row, table=True):
    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(nullable=False, index=True)
    actor: str
    action: str = Field(index=True)
    compartment_id: int | None = Field(default=None, index=True)
    parcel_id: int | None = Field(default=None, index=True)
    detail: str = ""


class AttemptCounter(Row, table=True):
    """Wrong-code counters, per terminal and for the whole station."""

    __tablename__ = "attempt_counter"

    scope: str = Field(primary_key=True)
    consecutive: int = 0
    last_failure_at: datetime | None = _when()
    window_start: datetime | None = _when()
    window_failures: int = 0


class KioskDevice(Row, table=True):
    """A screen staff paired as the station's kiosk: its device token, as a keyed hash."""

    __tablename__ = "kiosk_device"

    name: str = Field(primary_key=True, max_length=40)
    token_hash: str = Field(unique=True)
    paired_by: str
    paired_at: datetime = _when(nullable=False)
    last_seen_at: datetime | None = _when()


class CodeParcel(Row, table=True):
    """Which stored parcels a pickup code opens: a recipient's newest code opens them all."""

    __tablename__ = "code_parcel"

    code_id: int = Field(foreign_key="pickup_code.id", primary_key=True)
    parcel_id: int = Field(foreign_key="parcel.id", primary_key=True, index=True)


class Account(Row, table=True):
    """A courier, staff member or admin; passwords only as argon2 hashes."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    role: Role = _enum(Role)
    carrier: str | None = None  # couriers: the carrier they work for
    password_hash: str | None = None
    must_change_password: bool = False
    active: bool = True
    created_at: datetime = _when(nullable=False)


class ApiToken(Row, table=True):
    """A bearer token of an account, stored as a keyed hash."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    token_hash: str = Field(unique=True)
    label: str = ""
    created_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)
    last_used_at: datetime | None = _when()  # updated at most every few minutes
    revoked_at: datetime | None = _when()


class StaffSession(Row, table=True):
    """A signed-in browser: the cookie's id and its CSRF token, both as keyed hashes."""

    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    session_hash: str = Field(unique=True)
    csrf_hash: str
    created_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)


class Alert(Row, table=True):
    """A condition staff must see (a door left open, a door that would not open)."""

    id: int | None = Field(default=None, primary_key=True)
    kind: AlertKind = _enum(AlertKind)
    compartment_id: int | None = Field(default=None, foreign_key="compartment.id", index=True)
    cold_group: str | None = Field(default=None, max_length=40)  # a cold group's alert
    detail: str = ""
    raised_at: datetime = _when(nullable=False)
    cleared_at: datetime | None = _when(index=True)


class OutboxEvent(Row, table=True):
    """Something people outside must hear of, written in the same transaction as the
    change itself. The notifier turns it into one :class:`Delivery` per recipient."""

    __tablename__ = "outbox_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(nullable=False)
    event: str = Field(index=True)  # e.g. "parcel.stored", "code.issued", "alert.door_fault"
    key: str | None = Field(default=None, unique=True)  # for events that must happen once
    parcel_id: int | None = Field(default=None, foreign_key="parcel.id", index=True)
    compartment_id: int | None = None
    detail: str = ""  # JSON: what the messages need that the parcel row may lose later
    sealed: str | None = None  # the pickup code, encrypted; erased once it was delivered
    expanded: bool = Field(default=False, index=True)  # its deliveries exist
    # For the fleet hub (only when the station has one): the event's stable id and the
    # station's own sequence number, 1, 2, 3, … without gaps (see locker.uplink.capture).
    hub_seq: int | None = Field(default=None, unique=True)
    uid: str | None = Field(default=None, unique=True, max_length=32)


class Delivery(Row, table=True):
    """One event to one recipient over one channel, with its attempts."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="outbox_event.id", index=True)
    channel: Channel = _enum(Channel)
    recipient: str  # an address, a URL, a carrier's name
    dedup_key: str = Field(unique=True)  # event, channel, recipient: never two of them
    state: DeliveryState = _enum(DeliveryState, DeliveryState.PENDING, index=True)
    attempts: int = 0
    next_attempt_at: datetime = _when(nullable=False, index=True)
    claimed_until: datetime | None = _when()  # a sender is at it (or crashed at it) until then
    claim: str | None = None  # which attempt holds it: only that one may mark it
    last_error: str = ""
    sent_at: datetime | None = _when()


class Carrier(Row, table=True):
    """A carrier the shop connected: where its webhooks go. The signing secret is derived
    from the station key and ``secret_version``, so it is never stored."""

    name: str = Field(primary_key=True)
    webhook_url: str = ""
    secret_version: int = 1


class ReturnCode(Row, table=True):
    """A code with which a customer drops a parcel off for a carrier (or the shop)."""

    __tablename__ = "return_code"

    id: int | None = Field(default=None, primary_key=True)
    pin_hash: str = Field(unique=True)
    carrier: str
    reference: str  # the shop's or carrier's return number
    size: SizeClass = _enum(SizeClass)
    created_by: str
    created_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)
    used_at: datetime | None = _when()
    parcel_id: int | None = Field(default=None, foreign_key="parcel.id")


class HubCommand(Row, table=True):
    """A command of the fleet hub, applied once: a replay gets this first answer again."""

    __tablename__ = "hub_command"

    id: str = Field(primary_key=True, max_length=64)
    type: str
    received_at: datetime = _when(nullable=False)
    result: str  # the CommandResult's JSON, as it was sent


class UplinkState(Row, table=True):
    """How far the broker has acknowledged the station's events (one row)."""

    __tablename__ = "uplink_state"

    id: int = Field(default=1, primary_key=True)
    acked_seq: int = 0


# --- central staff: hub operators granted this station's maintenance screen (issue 18) ---


class CentralGrant(Row, table=True):
    """A hub operator's right to sign in here, from the hub's signed statement; a revoked
    one stays (also one revoked before it arrived), so a late copy cannot bring it back."""

    __tablename__ = "central_grant"

    id: str = Field(primary_key=True, max_length=64)
    operator: str = Field(default="", max_length=64)
    role: str = Field(default="staff", max_length=16)
    expires_at: datetime | None = _when()
    received_at: datetime = _when(nullable=False)
    revoked_at: datetime | None = _when()


class UsedPass(Row, table=True):
    """The nonce of every sign-in pass used here: a pass works once."""

    __tablename__ = "central_used_pass"

    nonce: str = Field(primary_key=True, max_length=64)
    grant_id: str = Field(max_length=64)
    used_at: datetime = _when(nullable=False)
