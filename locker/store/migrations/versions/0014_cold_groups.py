"""cooled compartments: a parcel's cold kind, cold groups' states, alerts and readings

A parcel that needs cooling says which kind (``chilled`` or ``frozen``); those that said
only ``needs_cooling`` before become chilled. A cold group's alert names its group. Each
group's state and its readings (one row per minute, the last day) get tables of their own.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from locker.store.tables import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN (SQLite has it): the parcel table keeps its triggers.
    op.add_column(
        "parcel",
        sa.Column(
            "cold",
            sa.Enum("chilled", "frozen", name="coldkind", native_enum=False, length=20),
            nullable=True,
        ),
    )
    op.execute("UPDATE parcel SET cold = 'chilled' WHERE needs_cooling")
    op.add_column("alert", sa.Column("cold_group", sa.String(length=40), nullable=True))
    op.create_table(
        "cold_group_state",
        sa.Column("group", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("last_c", sa.Float(), nullable=True),
        sa.Column("last_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("group"),
    )
    op.create_table(
        "cold_reading",
        sa.Column("group", sa.String(length=40), nullable=False),
        sa.Column("minute", UTCDateTime(), nullable=False),
        sa.Column("mean_c", sa.Float(), nullable=True),
        sa.Column("min_c", sa.Float(), nullable=True),
        sa.Column("max_c", sa.Float(), nullable=True),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("silences", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("group", "minute"),
    )


def downgrade() -> None:
    op.drop_table("cold_reading")
    op.drop_table("cold_group_state")
    with op.batch_alter_table("alert") as batch:
        batch.drop_column("cold_group")
    op.drop_column("parcel", "cold")
