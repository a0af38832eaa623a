"""cooled compartments: each station's free compartments per cold kind and size, and an
index for a station's events of one type over a time (the cold groups' charts)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "station_state",
        sa.Column(
            "cold_free",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.create_index("ix_events_station_type_at", "events", ["station", "type", "at"])


def downgrade() -> None:
    op.drop_index("ix_events_station_type_at", table_name="events")
    op.drop_column("station_state", "cold_free")
