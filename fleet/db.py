"""The hub's PostgreSQL database: engine, transactions and its own Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "fleet_alembic_version"
# Serialises schema upgrades of several hub processes starting at once.
_UPGRADE_LOCK = 0x666C656574  # "fleet"


class HubDatabase:
    """One PostgreSQL database (``postgresql+psycopg://…``)."""

    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        self.url = url
        self.engine = sa.create_engine(url, pool_pre_ping=True, pool_size=pool_size)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction (READ COMMITTED); commits on a normal exit, rolls back otherwise."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (``locker hub db upgrade``)."""
        from alembic import command

        with self.engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({_UPGRADE_LOCK})")
            try:
                config = alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                connection.commit()
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_UPGRADE_LOCK})")
                connection.commit()

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            if not sa.inspect(connection).has_table(VERSION_TABLE):
                return None
            value = connection.exec_driver_sql("SELECT version_num FROM fleet_alembic_version")
            return value.scalar()

    def close(self) -> None:
        self.engine.dispose()


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("fleet") / "migrations"))
    return config
