"""command delivery: when a command was last published and when the broker acknowledged it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("commands", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "commands", sa.Column("reached_broker_at", sa.DateTime(timezone=True), nullable=True)
    )
    # Commands of before were not tracked: taken as delivered (a station that comes online
    # is still given its unanswered ones again at its birth).
    op.execute("UPDATE commands SET reached_broker_at = issued_at")


def downgrade() -> None:
    op.drop_column("commands", "reached_broker_at")
    op.drop_column("commands", "published_at")
