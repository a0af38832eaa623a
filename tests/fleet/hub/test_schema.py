"""The hub's schema: its migrations make exactly its tables, and nothing holds a code."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import fleet
from fleet.db import VERSION_TABLE, HubDatabase
from fleet.tables import HubTable

# What a pickup code could be kept as, by any name: a PIN, a QR token, their hashes.
CODE_COLUMN = re.compile(r"pin|qr|pickup|code_hash|secret|otp", re.IGNORECASE)


def test_the_migrations_make_exactly_the_tables_of_the_code(hub_db: HubDatabase) -> None:
    hub_db.upgrade()  # a second upgrade does nothing
    versions = Path(fleet.__file__).parent / "migrations" / "versions"
    assert hub_db.current_revision() == max(p.name[:4] for p in versions.glob("0*.py"))
    with hub_db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, HubTable.metadata) == []
        tables = set(sa.inspect(conn).get_table_names())
    assert tables == set(HubTable.metadata.tables) | {"fleet_alembic_version"}


def test_no_column_anywhere_in_the_hub_holds_a_pin_or_a_qr_token(hub_db: HubDatabase) -> None:
    with hub_db.engine.connect() as conn:
        columns = conn.execute(
            sa.text(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = 'public'"
            )
        ).all()
    assert len(columns) > 50
    assert [c for c in columns if CODE_COLUMN.search(c.column_name)] == []
    assert [c for c in columns if CODE_COLUMN.search(c.table_name)] == []
