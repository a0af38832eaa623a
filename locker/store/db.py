"""The station's SQLite file: engine, pragmas, transactions and migrations.

Every write transaction starts with ``BEGIN IMMEDIATE``, so two writers never interleave
(two customers with one code cannot both claim it), and the file runs in WAL mode with
``synchronous=FULL``: a committed transaction survives a power cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another writer before giving up


class Database:
    """One SQLite file. Use :meth:`write` for transactions that change it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(
            f"sqlite:///{path}",
            connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        )
        sa.event.listen(self.engine, "connect", _on_connect)
        sa.event.listen(self.engine, "begin", _on_begin)
        # With a fleet hub: a locker.uplink.capture.Capture, given to every write session,
        # which then records the hub's events in the same transaction as each change.
        self.capture: object | None = None
        self.after_hub_events: list[Callable[[], None]] = []  # e.g. wake the uplink's sender

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that holds the write lock from its first statement; commits on exit."""
        with Session(self.engine, expire_on_commit=False) as session:
            if self.capture is not None:
                session.info["capture"] = self.capture
            session.connection(execution_options={"locker_write": True})
            yield session
            session.commit()
            if session.info.get("hub_events"):
                for hook in self.after_hub_events:
                    hook()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only snapshot (WAL lets it run beside a writer).

        Closing the session ends the transaction and detaches the rows it loaded, which
        keep their values for the caller.
        """
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def upgrade(self, to: str = "head") -> None:
        """Bring the schema to the newest migration (``locker db upgrade``), or to the
        revision ``to`` (tests build a file as an older release left it). Alembic is
        loaded only when there is something to do (it costs a start 10 MiB and 0.2 s)."""
        if self.current_revision() == (head_revision() if to == "head" else to):
            return
        from alembic import command

        with self.engine.connect() as connection:
            # SQLite alters a table by copying it and dropping the old one, which the
            # foreign keys of rows pointing at it refuse (a stored parcel's code_parcel
            # row): so they are off while the migrations run (SQLite's own procedure for
            # altering a table), checked before the commit, and on again afterwards.
            raw = connection.connection.dbapi_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, or it is ignored
            try:
                config = alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, to)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    connection.rollback()
                    raise RuntimeError(
                        f"{self.path}: the migrations would leave rows pointing at none "
                        f"({broken[:5]}); nothing was changed"
                    )
                connection.commit()
            finally:
                raw.execute("PRAGMA foreign_keys=ON")

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

    def close(self) -> None:
        self.engine.dispose()


# Each migration file states its revision and the one before it in these two lines (the
# template every migration follows); tests/locker/test_db.py checks this reading against
# alembic's own, so a start needs no alembic when the schema is already at the head.
_REVISION = re.compile(r'^revision: str = "([^"]+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision: str \| None = (?:"([^"]+)"|None)$', re.MULTILINE)


@cache
def revision_graph() -> dict[str, str | None]:
    """Every migration this code knows, and the one it follows (None: the first)."""
    graph: dict[str, str | None] = {}
    for entry in (resources.files("locker.store") / "migrations" / "versions").iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("_"):
            continue
        text = entry.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:
            raise RuntimeError(f"migration {entry.name}: no revision / down_revision line")
        graph[revision.group(1)] = down.group(1)
    return graph


def head_revision() -> str:
    """The newest migration this code knows (the one no other follows)."""
    graph = revision_graph()
    heads = set(graph) - set(graph.values())
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("locker.store") / "migrations"))
    return config


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted and overwritten bytes are zeroed in the file (erased personal data leaves
    # no trace in free pages; see locker.services.privacy).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _on_begin(connection: sa.Connection) -> None:
    immediate = connection.get_execution_options().get("locker_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
