"""one live parcel per tracking number of a carrier; announcements that lapse

An announced parcel deposited by hand used to become a second parcel, and the announced
ghost stayed for good. The ghosts an older station holds (an announced parcel whose
carrier and tracking number another live parcel has) lapse here, then a partial unique
index keeps one live parcel per (carrier, tracking number).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "'announced', 'reserved', 'stored', 'expired'"


def upgrade() -> None:
    # A ghost: announced while the same carrier's tracking number is live in another row
    # (the one deposited by hand), or an older announced twin of another announced one.
    op.execute(
        sa.text(
            "UPDATE parcel SET state = 'lapsed', finished_at = CURRENT_TIMESTAMP"
            " WHERE state = 'announced' AND EXISTS (SELECT 1 FROM parcel AS other"
            " WHERE other.carrier = parcel.carrier"
            " AND other.tracking_number = parcel.tracking_number AND other.id != parcel.id"
            " AND other.state IN ('announced', 'reserved', 'stored', 'expired')"
            " AND (other.state != 'announced' OR other.id > parcel.id))"
        )
    )
    with op.batch_alter_table("parcel", schema=None) as batch_op:
        batch_op.create_index(
            "one_live_parcel_per_tracking_number",
            ["carrier", "tracking_number"],
            unique=True,
            sqlite_where=sa.text(f"state IN ({LIVE})"),
        )


def downgrade() -> None:
    with op.batch_alter_table("parcel", schema=None) as batch_op:
        batch_op.drop_index("one_live_parcel_per_tracking_number")
    op.execute(sa.text("UPDATE parcel SET state = 'announced' WHERE state = 'lapsed'"))
