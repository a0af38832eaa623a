"""recipient directory: the people a station knows, and the parcel's link to one

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from locker.store.tables import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("needs_accessible", sa.Boolean(), nullable=False),
        sa.Column("notify_by", sa.String(), nullable=False),
        sa.Column("staff_note", sa.String(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recipient_name", "recipient", ["name"])
    op.create_index("ix_recipient_unit", "recipient", ["unit"])
    with op.batch_alter_table("parcel", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_parcel_recipient_id", ["recipient_id"])
        batch_op.create_foreign_key("fk_parcel_recipient", "recipient", ["recipient_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("parcel", schema=None) as batch_op:
        batch_op.drop_constraint("fk_parcel_recipient", type_="foreignkey")
        batch_op.drop_index("ix_parcel_recipient_id")
        batch_op.drop_column("recipient_id")
    op.drop_index("ix_recipient_unit", table_name="recipient")
    op.drop_index("ix_recipient_name", table_name="recipient")
    op.drop_table("recipient")
