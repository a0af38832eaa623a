"""The hub's tables (PostgreSQL), on their own metadata: never mixed with the station's.

Nothing here holds a pickup PIN or QR token, not even hashed: those never leave a station
(tests/fleet/hub/test_schema.py inspects the migrated schema for it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class HubTable(SQLModel, registry=registry()):
    """Base of the hub's tables; ``HubTable.metadata`` is the hub's schema."""


def _when(nullable: bool = False) -> Any:
    return Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=nullable))


def _json(default: Any = None) -> Any:
    server = sa.text("'{}'::jsonb") if default == {} else None
    return Field(
        default_factory=(dict if default == {} else lambda: default),
        sa_column=sa.Column(JSONB, nullable=default is None, server_default=server),
    )


class Station(HubTable, table=True):
    """The registry: a station may report once it is here."""

    __tablename__ = "stations"

    name: str = Field(primary_key=True, max_length=40)
    created_at: datetime = _when()
    command_key: str = Field(max_length=64)  # 32 random bytes, hex: signs its commands
    # The station's broker password, only as Mosquitto's PBKDF2-SHA512 hash ($7$…), for
    # the broker's dynamic-security file (fleet.broker); the password itself is shown once.
    broker_password_hash: str


class StationState(HubTable, table=True):
    """What the hub knows of a station right now (one row per registered station)."""

    __tablename__ = "station_state"

    station: str = Field(primary_key=True, foreign_key="stations.name")
    online: bool = False
    last_seen: datetime | None = _when(nullable=True)
    offline_since: datetime | None = _when(nullable=True)  # when the hub heard it drop
    boot: str = ""
    contiguous_seq: int = Field(default=0, sa_type=sa.BigInteger)  # all applied up to here
    station_last_seq: int = Field(default=0, sa_type=sa.BigInteger)  # the newest it wrote
    gap_from: int | None = Field(default=None, sa_type=sa.BigInteger)  # the first missing
    gap_seen_at: datetime | None = _when(nullable=True)
    resend_from: int | None = Field(default=None, sa_type=sa.BigInteger)  # the last asked
    resend_asked_at: datetime | None = _when(nullable=True)
    free: dict[str, Any] = _json({})  # {size: count}
    accessible_free: dict[str, Any] = _json({})
    cold_free: dict[str, Any] = _json({})  # {"chilled": {size: count}, "frozen": {…}}
    bus: dict[str, Any] = _json({})  # {bus id: {counter: value}}
    layout: dict[str, Any] | None = _json(None)


class EventRow(HubTable, table=True):
    __tablename__ = "events"
    __table_args__ = (
        sa.UniqueConstraint("station", "seq", name="events_station_seq_key"),
        # a station's events of one type over a time (the fleet screen's cold charts)
        sa.Index("ix_events_station_type_at", "station", "type", "at"),
        sa.Index("ix_events_type_at", "type", "at"),  # the day's payments (migration 0007)
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    )
    station: str = Field(foreign_key="stations.name")
    seq: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    event_id: str = Field(max_length=32, unique=True)
    type: str = Field(max_length=32)
    data: dict[str, Any] = _json({})
    at: datetime = _when()
    received_at: datetime = _when()


class ParcelView(HubTable, table=True):
    """A station's live parcels (announced, reserved, stored, expired); never a code."""

    __tablename__ = "parcels"
    __table_args__ = (sa.Index("ix_parcels_state_station", "state", "station"),)  # 0009

    station: str = Field(primary_key=True, foreign_key="stations.name")
    parcel_id: int = Field(primary_key=True)
    tracking_number: str
    carrier: str
    state: str = Field(index=True)
    size: str
    compartment_id: int | None = None
    deadline: datetime | None = _when(nullable=True)
    accessible: bool = False
    amount_due: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # cents
    paid_at: datetime | None = _when(nullable=True)  # from the station's "paid" event


class CompartmentView(HubTable, table=True):
    __tablename__ = "compartments"
    __table_args__ = (  # the stations list's "needs attention" (migration 0009)
        sa.Index("ix_compartments_fault", "station", postgresql_where=sa.text("state = 'fault'")),
    )

    station: str = Field(primary_key=True, foreign_key="stations.name")
    compartment_id: int = Field(primary_key=True)
    size: str
    state: str


class AlertView(HubTable, table=True):
    """A station's open alerts (a cleared one is gone)."""

    __tablename__ = "alerts"
    __table_args__ = (  # the hub's own offline alert, once per station (migration 0009)
        sa.Index(
            "alerts_offline_once",
            "station",
            unique=True,
            postgresql_where=sa.text("kind = 'offline'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    station: str = Field(foreign_key="stations.name", index=True)
    kind: str
    compartment_id: int | None = None
    detail: str = ""
    raised_at: datetime = _when()


class CommandRow(HubTable, table=True):
    __tablename__ = "commands"

    id: str = Field(primary_key=True, max_length=64)
    station: str = Field(foreign_key="stations.name", index=True)
    type: str = Field(max_length=32)
    args: dict[str, Any] = _json({})
    by: str = ""
    issued_at: datetime = _when()
    state: str = "sent"  # sent, ok, refused
    result: dict[str, Any] | None = _json(None)
    problem_code: str | None = None
    problem_detail: str | None = None
    answered_at: datetime | None = _when(nullable=True)
    # Delivery (fleet.delivery): when it was last handed to the broker (null: when issued)
    # and when the broker acknowledged it (PUBACK); unacknowledged ones are published again.
    published_at: datetime | None = _when(nullable=True)
    reached_broker_at: datetime | None = _when(nullable=True)


class Operator(HubTable, table=True):
    __tablename__ = "operators"

    name: str = Field(primary_key=True, max_length=64)
    password_hash: str  # argon2
    role: str = Field(max_length=16)  # operator, admin
    created_at: datetime = _when()


class OperatorToken(HubTable, table=True):
    __tablename__ = "operator_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)  # sha256 of the bearer token
    operator: str = Field(foreign_key="operators.name", index=True)
    created_at: datetime = _when()
    expires_at: datetime = _when()


class LoginAttempt(HubTable, table=True):
    """Wrong passwords counted for one scope (:mod:`fleet.sign_in_limits`): a name tried
    from one network (``name:<network>:<name>``) or one network whatever the names
    (``net:<network>``)."""

    __tablename__ = "login_attempts"

    scope: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    last_at: datetime = _when()


class DroppedCount(HubTable, table=True):
    """Messages ingest dropped, by reason, over every worker."""

    __tablename__ = "ingest_dropped"

    reason: str = Field(primary_key=True, max_length=32)
    count: int = 0


# --- the operators' screen (fleet/screens): central staff grants and the hub's audit log ---


class StationGrant(HubTable, table=True):
    """An operator may sign in at a station's maintenance screen until ``expires_at``;
    sent to the station as a signed ``grant_access`` command (``revoke_access`` ends it)."""

    __tablename__ = "station_grants"

    id: str = Field(primary_key=True, max_length=32)
    operator: str = Field(foreign_key="operators.name", index=True)
    station: str = Field(foreign_key="stations.name", index=True)
    role: str = Field(default="staff", max_length=16)
    granted_by: str = Field(max_length=64)
    granted_at: datetime = _when()
    expires_at: datetime = _when()
    command_id: str = Field(max_length=64)
    revoked_at: datetime | None = _when(nullable=True)
    revoked_by: str | None = Field(default=None, max_length=64)
    revoke_command_id: str | None = Field(default=None, max_length=64)


class HubAudit(HubTable, table=True):
    """What operators did on the hub's screen: sign-ins, commands, grants, passes."""

    __tablename__ = "hub_audit"

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    )
    at: datetime = _when()
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    station: str | None = Field(default=None, max_length=40)
    detail: str = ""


# -- carriers (issue 18): accounts, where stations are, announcements, webhooks ---------


class StationPlace(HubTable, table=True):
    """Where a station is and when it opens, as the hub's registry has it (set with
    ``locker hub station place``): what a carrier is told, and what routing ranks by."""

    __tablename__ = "station_places"

    station: str = Field(primary_key=True, foreign_key="stations.name")
    address: str = ""
    opening_hours: str = ""
    postcode: str = Field(default="", max_length=16)
    latitude: float | None = None
    longitude: float | None = None


class CarrierAccount(HubTable, table=True):
    """A carrier on the hub; its name is the carrier's name on the stations' parcels."""

    __tablename__ = "carriers"

    name: str = Field(primary_key=True, max_length=100)
    token_hash: str = Field(max_length=64, unique=True)  # sha256 of its bearer token
    webhook_url: str = ""
    # Signs its webhooks (HMAC-SHA256, as a station's carrier webhooks); shown once.
    signing_key: str = Field(max_length=64)
    created_at: datetime = _when()


class CarrierStation(HubTable, table=True):
    """The stations a carrier may use."""

    __tablename__ = "carrier_stations"

    carrier: str = Field(primary_key=True, foreign_key="carriers.name")
    station: str = Field(primary_key=True, foreign_key="stations.name")


class CarrierAnnouncement(HubTable, table=True):
    """A carrier's announcement: one per tracking number (announcing again is the same)."""

    __tablename__ = "carrier_announcements"

    carrier: str = Field(primary_key=True, foreign_key="carriers.name")
    tracking_number: str = Field(primary_key=True, max_length=100)
    station: str = Field(foreign_key="stations.name", index=True)
    size: str = Field(max_length=2)
    accessible: bool = False
    command_id: str = Field(max_length=64)  # the announce command (its state is the answer)
    announced_at: datetime = _when()
    parcel_id: int | None = None
    parcel_state: str | None = None  # the newest the station reported
    parcel_since: datetime | None = _when(nullable=True)  # since then (station time; 0010)


class CarrierWebhook(HubTable, table=True):
    """A webhook to a carrier, written with the event it comes of; sent by the workers in
    order per carrier (``id``), retried until its receiver takes it."""

    __tablename__ = "carrier_webhooks"
    __table_args__ = (
        sa.UniqueConstraint("carrier", "station", "event_seq", name="carrier_webhooks_once"),
        sa.Index(
            "carrier_webhooks_pending",
            "carrier",
            "id",
            postgresql_where=sa.text("state = 'pending'"),
        ),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    )
    carrier: str = Field(foreign_key="carriers.name")
    station: str = Field(foreign_key="stations.name")
    event_seq: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    event: str = Field(max_length=40)  # parcel.stored, parcel.reminder, …
    body: dict[str, Any] = _json({})
    created_at: datetime = _when()
    state: str = Field(default="pending", max_length=16)  # pending, sent
    attempts: int = 0
    next_at: datetime = _when()
    last_error: str | None = None
    sent_at: datetime | None = _when(nullable=True)


class StationBackup(HubTable, table=True):
    """An encrypted backup a station sent (``locker.store.offsite``'s sealed file): the hub
    keeps it for the shop and cannot read it (the backup key never leaves the station)."""

    __tablename__ = "station_backups"
    __table_args__ = (sa.Index("ix_station_backups_station_started", "station", "started_at"),)

    id: str = Field(primary_key=True, max_length=32)  # uuid4 hex
    station: str = Field(
        sa_column=sa.Column(
            sa.String(40), sa.ForeignKey("stations.name", ondelete="CASCADE"), nullable=False
        )
    )
    name: str = Field(max_length=120)  # station-<UTC time>….db.lpsbak
    size: int = Field(sa_type=sa.BigInteger)  # bytes, as the station declared them
    sha256: str = Field(max_length=64)  # of the whole sealed file, hex
    chunk_bytes: int  # every chunk but the last has this many bytes
    complete: bool = False  # all chunks in and the digest checked
    started_at: datetime = _when()
    completed_at: datetime | None = _when(nullable=True)


class StationBackupChunk(HubTable, table=True):
    """One piece of a station's backup, in order."""

    __tablename__ = "station_backup_chunks"

    backup_id: str = Field(
        sa_column=sa.Column(
            sa.String(32),
            sa.ForeignKey("station_backups.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    index: int = Field(primary_key=True)
    data: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
