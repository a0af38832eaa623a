"""uplink to a fleet hub: event sequence and id on the outbox, commands applied, acked seq

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from locker.store.tables import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hub_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("uid", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint("uq_outbox_event_hub_seq", ["hub_seq"])
        batch_op.create_unique_constraint("uq_outbox_event_uid", ["uid"])
    op.create_table(
        "hub_command",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("result", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "uplink_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("acked_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("uplink_state")
    op.drop_table("hub_command")
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_event_uid", type_="unique")
        batch_op.drop_constraint("uq_outbox_event_hub_seq", type_="unique")
        batch_op.drop_column("uid")
        batch_op.drop_column("hub_seq")
