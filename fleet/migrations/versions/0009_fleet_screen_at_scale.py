"""the fleet screen for thousands: when a station went offline, its offline alert once, and
indexes for the stations list's summary and filters

Revision ID: 0009
Revises: 0007 (0008_station_backups comes between once both branches are merged)
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "station_state", sa.Column("offline_since", sa.DateTime(timezone=True), nullable=True)
    )
    # a station that is offline today: when the hub heard it drop (none known before)
    op.execute("UPDATE station_state SET offline_since = last_seen WHERE NOT online")
    # the hub's own "offline" alert: one per station at most (several workers sweep)
    op.create_index(
        "alerts_offline_once",
        "alerts",
        ["station"],
        unique=True,
        postgresql_where=sa.text("kind = 'offline'"),
    )
    # the list's "needs attention": a station with a faulty compartment, found by index
    op.create_index(
        "ix_compartments_fault",
        "compartments",
        ["station"],
        postgresql_where=sa.text("state = 'fault'"),
    )
    # parcels waiting per station (and across the fleet) without reading the others
    op.create_index("ix_parcels_state_station", "parcels", ["state", "station"])


def downgrade() -> None:
    op.drop_index("ix_parcels_state_station", table_name="parcels")
    op.drop_index("ix_compartments_fault", table_name="compartments")
    op.drop_index("alerts_offline_once", table_name="alerts")
    op.drop_column("station_state", "offline_since")
