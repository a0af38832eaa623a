"""carriers: accounts, station places, announcements, webhooks

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "station_places",
        sa.Column("station", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("opening_hours", sa.String(), nullable=False),
        sa.Column("postcode", sa.String(length=16), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["station"], ["stations.name"]),
        sa.PrimaryKeyConstraint("station"),
    )
    op.create_table(
        "carriers",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("webhook_url", sa.String(), nullable=False),
        sa.Column("signing_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "carrier_stations",
        sa.Column("carrier", sa.String(), nullable=False),
        sa.Column("station", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["carrier"], ["carriers.name"]),
        sa.ForeignKeyConstraint(["station"], ["stations.name"]),
        sa.PrimaryKeyConstraint("carrier", "station"),
    )
    op.create_table(
        "carrier_announcements",
        sa.Column("carrier", sa.String(), nullable=False),
        sa.Column("tracking_number", sa.String(length=100), nullable=False),
        sa.Column("station", sa.String(), nullable=False),
        sa.Column("size", sa.String(length=2), nullable=False),
        sa.Column("accessible", sa.Boolean(), nullable=False),
        sa.Column("command_id", sa.String(length=64), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=True),
        sa.Column("parcel_state", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["carrier"], ["carriers.name"]),
        sa.ForeignKeyConstraint(["station"], ["stations.name"]),
        sa.PrimaryKeyConstraint("carrier", "tracking_number"),
    )
    op.create_index(
        op.f("ix_carrier_announcements_station"),
        "carrier_announcements",
        ["station"],
        unique=False,
    )
    op.create_table(
        "carrier_webhooks",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("carrier", sa.String(), nullable=False),
        sa.Column("station", sa.String(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column(
            "body",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["carrier"], ["carriers.name"]),
        sa.ForeignKeyConstraint(["station"], ["stations.name"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("carrier", "station", "event_seq", name="carrier_webhooks_once"),
    )
    op.create_index(
        "carrier_webhooks_pending",
        "carrier_webhooks",
        ["carrier", "id"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("carrier_webhooks_pending", table_name="carrier_webhooks")
    op.drop_table("carrier_webhooks")
    op.drop_index(op.f("ix_carrier_announcements_station"), table_name="carrier_announcements")
    op.drop_table("carrier_announcements")
    op.drop_table("carrier_stations")
    op.drop_table("carriers")
    op.drop_table("station_places")
