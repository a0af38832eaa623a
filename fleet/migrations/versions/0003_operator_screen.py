"""operator screen: central staff grants and the hub's audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "station_grants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("operator", sa.String(), nullable=False),
        sa.Column("station", sa.String(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("command_id", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoke_command_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["operator"], ["operators.name"]),
        sa.ForeignKeyConstraint(["station"], ["stations.name"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_station_grants_operator", "station_grants", ["operator"])
    op.create_index("ix_station_grants_station", "station_grants", ["station"])
    op.create_table(
        "hub_audit",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("hub_audit")
    op.drop_index("ix_station_grants_station", "station_grants")
    op.drop_index("ix_station_grants_operator", "station_grants")
    op.drop_table("station_grants")
