"""The hub's Alembic environment: runs on the connection handed over by ``HubDatabase.upgrade``."""

from __future__ import annotations

from alembic import context

from fleet.tables import HubTable

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the hub's migrations through `locker hub db upgrade`")

context.configure(
    connection=connection,
    target_metadata=HubTable.metadata,
    version_table="fleet_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
