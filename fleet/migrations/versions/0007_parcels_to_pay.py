"""pay at pick-up: what each live parcel costs and when it was paid (no card data)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "parcels", sa.Column("amount_due", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("parcels", sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_events_type_at", "events", ["type", "at"])


def downgrade() -> None:
    op.drop_index("ix_events_type_at", table_name="events")
    op.drop_column("parcels", "paid_at")
    op.drop_column("parcels", "amount_due")
