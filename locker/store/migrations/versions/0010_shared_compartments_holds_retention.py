"""several parcels in one compartment, holds, erased personal data

A parcel the courier put beside a waiting one of the same recipient records which one
(``beside_parcel_id``); the unique index of active parcels per compartment leaves such
rows out, and triggers refuse every other second parcel in a compartment: a parcel
beside another must lie in that one's compartment, for the same recipient (directory
entry, e-mail address or phone number) and carrier, and no parcel of another group may
be active in a compartment that holds one.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from locker.store.tables import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "('reserved', 'stored', 'expired')"
OLD_WHERE = f"state IN {ACTIVE}"
NEW_WHERE = f"state IN {ACTIVE} AND beside_parcel_id IS NULL"


def _phone(column: str) -> str:
    """A phone number's digits (and +), as locker.services.issuing.recipient_key reads it."""
    expr = column
    for ch in (" ", "-", "(", ")", "/", "."):
        expr = f"replace({expr}, '{ch}', '')"
    return expr


SAME_RECIPIENT = (
    "((NEW.recipient_id IS NOT NULL AND NEW.recipient_id = b.recipient_id)"
    " OR (NEW.recipient_email IS NOT NULL AND trim(NEW.recipient_email) != ''"
    "     AND lower(trim(NEW.recipient_email)) = lower(trim(b.recipient_email)))"
    f" OR (NEW.recipient_phone IS NOT NULL AND {_phone('NEW.recipient_phone')} != ''"
    f"     AND {_phone('NEW.recipient_phone')} = {_phone('b.recipient_phone')}))"
)

BESIDE_CHECK = f"""
BEGIN
    SELECT RAISE(ABORT, 'parcel_beside: a parcel may lie only beside an active parcel of the same recipient and carrier, in its compartment')
    WHERE NOT EXISTS (
        SELECT 1 FROM parcel AS b
        WHERE b.id = NEW.beside_parcel_id AND b.beside_parcel_id IS NULL
          AND b.compartment_id = NEW.compartment_id AND b.state IN {ACTIVE}
          AND b.carrier = NEW.carrier AND {SAME_RECIPIENT}
    );
END
"""  # noqa: S608 (constants only)

ONE_GROUP_CHECK = f"""
BEGIN
    SELECT RAISE(ABORT, 'parcel_compartment: the compartment holds another recipient''s parcel')
    WHERE EXISTS (
        SELECT 1 FROM parcel AS p
        WHERE p.compartment_id = NEW.compartment_id AND p.id != NEW.id
          AND p.state IN {ACTIVE}
          AND coalesce(p.beside_parcel_id, p.id) != coalesce(NEW.beside_parcel_id, NEW.id)
    );
END
"""  # noqa: S608 (constants only)

BESIDE_WHEN = f"NEW.beside_parcel_id IS NOT NULL AND NEW.state IN {ACTIVE}"
GROUP_WHEN = f"NEW.compartment_id IS NOT NULL AND NEW.state IN {ACTIVE}"
WATCHED = (
    "state, compartment_id, beside_parcel_id, carrier, recipient_id, recipient_email, "
    "recipient_phone"
)
TRIGGERS = {
    "parcel_beside_insert": f"AFTER INSERT ON parcel WHEN {BESIDE_WHEN} {BESIDE_CHECK}",
    "parcel_beside_update": f"AFTER UPDATE OF {WATCHED} ON parcel WHEN {BESIDE_WHEN}"
    f" {BESIDE_CHECK}",
    "parcel_one_group_insert": f"AFTER INSERT ON parcel WHEN {GROUP_WHEN} {ONE_GROUP_CHECK}",
    "parcel_one_group_update": f"AFTER UPDATE OF {WATCHED} ON parcel WHEN {GROUP_WHEN}"
    f" {ONE_GROUP_CHECK}",
}


def upgrade() -> None:
    op.add_column("parcel", sa.Column("beside_parcel_id", sa.Integer(), nullable=True))
    op.add_column("parcel", sa.Column("held_until", UTCDateTime(), nullable=True))
    op.add_column(
        "parcel", sa.Column("hold_days", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("parcel", sa.Column("erased_at", UTCDateTime(), nullable=True))
    op.drop_index("one_active_parcel_per_compartment", table_name="parcel")
    op.create_index(
        "one_active_parcel_per_compartment",
        "parcel",
        ["compartment_id"],
        unique=True,
        sqlite_where=sa.text(NEW_WHERE),
    )
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("one_active_parcel_per_compartment", table_name="parcel")
    op.create_index(
        "one_active_parcel_per_compartment",
        "parcel",
        ["compartment_id"],
        unique=True,
        sqlite_where=sa.text(OLD_WHERE),
    )
    with op.batch_alter_table("parcel", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("hold_days")
        batch_op.drop_column("held_until")
        batch_op.drop_column("beside_parcel_id")
