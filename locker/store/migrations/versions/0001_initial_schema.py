"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attempt_counter",
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("consecutive", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.Column("window_start", sa.DateTime(), nullable=True),
        sa.Column("window_failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("compartment_id", sa.Integer(), nullable=True),
        sa.Column("parcel_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_compartment_id"), ["compartment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_parcel_id"), ["parcel_id"], unique=False)

    op.create_table(
        "compartment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "condition",
            sa.Enum(
                "ok", "out_of_service", "fault", name="condition", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "pickup_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pin_hash", sa.String(), nullable=False),
        sa.Column("qr_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pin_hash"),
        sa.UniqueConstraint("qr_hash"),
    )
    op.create_table(
        "door_op",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compartment_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "deposit",
                "collect",
                "take_back",
                "staff",
                name="doorpurpose",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("parcel_ids", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["compartment_id"],
            ["compartment.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("door_op", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_door_op_compartment_id"), ["compartment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_door_op_outcome"), ["outcome"], unique=False)

    op.create_table(
        "parcel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "announced",
                "reserved",
                "stored",
                "collected",
                "expired",
                "returned",
                name="parcelstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("carrier", sa.String(), nullable=False),
        sa.Column("tracking_number", sa.String(), nullable=False),
        sa.Column("recipient_name", sa.String(), nullable=False),
        sa.Column("recipient_phone", sa.String(), nullable=True),
        sa.Column("recipient_email", sa.String(), nullable=True),
        sa.Column(
            "size",
            sa.Enum("S", "M", "L", "XL", name="sizeclass", native_enum=False, length=4),
            nullable=True,
        ),
        sa.Column("width_mm", sa.Integer(), nullable=True),
        sa.Column("height_mm", sa.Integer(), nullable=True),
        sa.Column("depth_mm", sa.Integer(), nullable=True),
        sa.Column("needs_accessible", sa.Boolean(), nullable=False),
        sa.Column("needs_cooling", sa.Boolean(), nullable=False),
        sa.Column("compartment_id", sa.Integer(), nullable=True),
        sa.Column("code_id", sa.Integer(), nullable=True),
        sa.Column("courier", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reserved_until", sa.DateTime(), nullable=True),
        sa.Column("door_opened_at", sa.DateTime(), nullable=True),
        sa.Column("stored_at", sa.DateTime(), nullable=True),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["pickup_code.id"],
        ),
        sa.ForeignKeyConstraint(
            ["compartment_id"],
            ["compartment.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("parcel", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parcel_code_id"), ["code_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_parcel_deadline"), ["deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_parcel_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_parcel_tracking_number"), ["tracking_number"], unique=False
        )
        batch_op.create_index(
            "one_active_parcel_per_compartment",
            ["compartment_id"],
            unique=True,
            sqlite_where=sa.text("state IN ('reserved', 'stored', 'expired')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("parcel", schema=None) as batch_op:
        batch_op.drop_index(
            "one_active_parcel_per_compartment",
            sqlite_where=sa.text("state IN ('reserved', 'stored', 'expired')"),
        )
        batch_op.drop_index(batch_op.f("ix_parcel_tracking_number"))
        batch_op.drop_index(batch_op.f("ix_parcel_state"))
        batch_op.drop_index(batch_op.f("ix_parcel_deadline"))
        batch_op.drop_index(batch_op.f("ix_parcel_code_id"))

    op.drop_table("parcel")
    with op.batch_alter_table("door_op", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_door_op_outcome"))
        batch_op.drop_index(batch_op.f("ix_door_op_compartment_id"))

    op.drop_table("door_op")
    op.drop_table("pickup_code")
    op.drop_table("compartment")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_parcel_id"))
        batch_op.drop_index(batch_op.f("ix_audit_compartment_id"))
        batch_op.drop_index(batch_op.f("ix_audit_at"))
        batch_op.drop_index(batch_op.f("ix_audit_action"))

    op.drop_table("audit")
    op.drop_table("attempt_counter")
