"""the stations' encrypted backups, kept for the shops (the hub cannot read them)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "station_backups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("station", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("chunk_bytes", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["station"], ["stations.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_station_backups_station_started", "station_backups", ["station", "started_at"]
    )
    op.create_table(
        "station_backup_chunks",
        sa.Column("backup_id", sa.String(length=32), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["backup_id"], ["station_backups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("backup_id", "index"),
    )


def downgrade() -> None:
    op.drop_table("station_backup_chunks")
    op.drop_index("ix_station_backups_station_started", table_name="station_backups")
    op.drop_table("station_backups")
