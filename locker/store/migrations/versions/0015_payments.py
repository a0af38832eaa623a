"""pay at pick-up: a parcel's amount due, and the payments taken for it (no card data)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from locker.store.tables import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "parcel",
        sa.Column("amount_due_cents", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "parcel",
        sa.Column("currency", sa.String(length=3), nullable=False, server_default="EUR"),
    )
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("provider_ref", sa.String(length=255), nullable=True),
        sa.Column("payment_ref", sa.String(length=255), nullable=True),
        sa.Column("refund_ref", sa.String(length=255), nullable=True),
        sa.Column("link_url", sa.String(length=1000), nullable=True),
        sa.Column("receipt_number", sa.String(length=20), nullable=True),
        sa.Column("outcome_text", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("refund_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("settled_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["parcel_id"], ["parcel.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index("ix_payment_parcel_id", ["parcel_id"], unique=False)
        batch_op.create_index("ix_payment_state", ["state"], unique=False)
        batch_op.create_index("ix_payment_created_at", ["created_at"], unique=False)
    # One payment that holds the money per parcel: a second one can never be recorded.
    op.create_index(
        "one_charge_per_parcel",
        "payment",
        ["parcel_id"],
        unique=True,
        sqlite_where=sa.text("state IN ('approved', 'returning', 'refund_failed')"),
    )


def downgrade() -> None:
    op.drop_index("one_charge_per_parcel", table_name="payment")
    op.drop_table("payment")
    with op.batch_alter_table("parcel", schema=None) as batch_op:
        batch_op.drop_column("currency")
        batch_op.drop_column("amount_due_cents")
