"""hub schema: registry, events, views, commands, operators

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_dropped",
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("reason"),
    )
    op.create_table(
        "login_failures",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "operators",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "stations",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("command_key", sa.String(length=64), nullable=False),
        sa.Column("broker_password_hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("compartment_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station"],
            ["stations.name"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_alerts_station"), "alerts", ["station"], unique=False)
    op.create_table(
        "commands",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column(
            "args",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("by", sa.String(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("problem_code", sa.String(), nullable=True),
        sa.Column("problem_detail", sa.String(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["station"],
            ["stations.name"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_commands_station"), "commands", ["station"], unique=False)
    op.create_table(
        "compartments",
        sa.Column("station", sa.String(), nullable=False),
        sa.Column("compartment_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station"],
            ["stations.name"],
        ),
        sa.PrimaryKeyConstraint("station", "compartment_id"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("station", sa.String(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column(
            "data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station"],
            ["stations.name"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("station", "seq", name="events_station_seq_key"),
    )
    op.create_table(
        "operator_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("operator", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator"],
            ["operators.name"],
        ),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(
        op.f("ix_operator_tokens_operator"), "operator_tokens", ["operator"], unique=False
    )
    op.create_table(
        "parcels",
        sa.Column("station", sa.String(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sa.String(), nullable=False),
        sa.Column("carrier", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("size", sa.String(), nullable=False),
        sa.Column("compartment_id", sa.Integer(), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accessible", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station"],
            ["stations.name"],
        ),
        sa.PrimaryKeyConstraint("station", "parcel_id"),
    )
    op.create_index(op.f("ix_parcels_state"), "parcels", ["state"], unique=False)
    op.create_table(
        "station_state",
        sa.Column("station", sa.String(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("boot", sa.String(), nullable=False),
        sa.Column("contiguous_seq", sa.BigInteger(), nullable=False),
        sa.Column("station_last_seq", sa.BigInteger(), nullable=False),
        sa.Column("gap_from", sa.BigInteger(), nullable=True),
        sa.Column("gap_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resend_from", sa.BigInteger(), nullable=True),
        sa.Column("resend_asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "free",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "accessible_free",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "bus",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("layout", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["station"],
            ["stations.name"],
        ),
        sa.PrimaryKeyConstraint("station"),
    )


def downgrade() -> None:
    op.drop_table("station_state")
    op.drop_index(op.f("ix_parcels_state"), table_name="parcels")
    op.drop_table("parcels")
    op.drop_index(op.f("ix_operator_tokens_operator"), table_name="operator_tokens")
    op.drop_table("operator_tokens")
    op.drop_table("events")
    op.drop_table("compartments")
    op.drop_index(op.f("ix_commands_station"), table_name="commands")
    op.drop_table("commands")
    op.drop_index(op.f("ix_alerts_station"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("stations")
    op.drop_table("operators")
    op.drop_table("login_failures")
    op.drop_table("ingest_dropped")
