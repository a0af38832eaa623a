"""outbox, deliveries, carriers, return codes; parcel kind, language, extensions, flag

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from locker.store.tables import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = sa.Enum(
    "email",
    "shop_webhook",
    "carrier_webhook",
    "staff_email",
    name="channel",
    native_enum=False,
    length=20,
)
DELIVERY_STATES = sa.Enum(
    "pending", "sent", "gave_up", "skipped", name="deliverystate", native_enum=False, length=20
)
SIZES = sa.Enum("S", "M", "L", "XL", name="sizeclass", native_enum=False, length=20)


def upgrade() -> None:
    with op.batch_alter_table("parcel", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "delivery",
                    "return",
                    "shop_order",
                    name="parcelkind",
                    native_enum=False,
                    length=20,
                ),
                nullable=False,
                server_default="delivery",
            )
        )
        batch_op.add_column(
            sa.Column("recipient_language", sa.String(), nullable=False, server_default="en")
        )
        batch_op.add_column(
            sa.Column("extensions", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("flagged", sa.String(), nullable=False, server_default=""))

    op.create_table(
        "outbox_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=True),
        sa.Column("parcel_id", sa.Integer(), nullable=True),
        sa.Column("compartment_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("sealed", sa.String(), nullable=True),
        sa.Column("expanded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["parcel_id"], ["parcel.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_outbox_event_event", "outbox_event", ["event"])
    op.create_index("ix_outbox_event_parcel_id", "outbox_event", ["parcel_id"])
    op.create_index("ix_outbox_event_expanded", "outbox_event", ["expanded"])

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("channel", CHANNELS, nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("dedup_key", sa.String(), nullable=False),
        sa.Column("state", DELIVERY_STATES, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("claim", sa.String(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["outbox_event.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index("ix_delivery_event_id", "delivery", ["event_id"])
    op.create_index("ix_delivery_state", "delivery", ["state"])
    op.create_index("ix_delivery_next_attempt_at", "delivery", ["next_attempt_at"])

    op.create_table(
        "carrier",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("webhook_url", sa.String(), nullable=False),
        sa.Column("secret_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )

    op.create_table(
        "return_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pin_hash", sa.String(), nullable=False),
        sa.Column("carrier", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("size", SIZES, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("parcel_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["parcel_id"], ["parcel.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pin_hash"),
    )


def downgrade() -> None:
    op.drop_table("return_code")
    op.drop_table("carrier")
    op.drop_index("ix_delivery_next_attempt_at", table_name="delivery")
    op.drop_index("ix_delivery_state", table_name="delivery")
    op.drop_index("ix_delivery_event_id", table_name="delivery")
    op.drop_table("delivery")
    op.drop_index("ix_outbox_event_expanded", table_name="outbox_event")
    op.drop_index("ix_outbox_event_parcel_id", table_name="outbox_event")
    op.drop_index("ix_outbox_event_event", table_name="outbox_event")
    op.drop_table("outbox_event")
    with op.batch_alter_table("parcel", schema=None) as batch_op:
        batch_op.drop_column("flagged")
        batch_op.drop_column("extensions")
        batch_op.drop_column("recipient_language")
        batch_op.drop_column("kind")
