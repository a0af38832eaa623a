"""Is a database file one this station can open? Checked before anything writes to it.

The file is opened read-only (see :func:`_open_mode`): the check never changes it, never
runs a migration and never checkpoints its WAL. It must open as SQLite, pass ``PRAGMA
quick_check`` (``integrity_check`` when ``thorough``) and carry a migration revision this
code knows. Each way of failing is its own exception with its own exit code, so a
service manager can tell a damaged file (restarting will not help) from a passing fault.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import ClassVar

from locker.store.db import head_revision, revision_graph

EXIT_DAMAGED = 65  # sysexits EX_DATAERR: the file is damaged (or lost while backups exist)
EXIT_INCOMPATIBLE = 78  # sysexits EX_CONFIG: a newer version's database, or not a station's
MAX_DETAIL_LINES = 8  # of what SQLite reports, enough to name the pages


class DatabaseUnusable(Exception):
    """The station must not start on this file; nothing was written to it."""

    exit_code: ClassVar[int] = EXIT_DAMAGED

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path = path
        self.detail = detail  # what SQLite (or the check) said


class DatabaseDamaged(DatabaseUnusable):
    """Not readable as SQLite, or its own consistency check fails."""


class DatabaseMissing(DatabaseUnusable):
    """No database (or an empty one) where backups, or its own write-ahead log
    (``left_behind``), show there was one."""

    def __init__(self, path: Path, detail: str, *, left_behind: Path | None = None) -> None:
        super().__init__(path, detail)
        self.left_behind = left_behind


class KeyMissing(DatabaseUnusable):
    """The code key is gone while the database holds live codes: a new key would make
    every one of them fail (the database itself is fine)."""

    exit_code = EXIT_DAMAGED

    def __init__(self, path: Path, key: Path, live: int) -> None:
        super().__init__(path, f"the code key {key} is missing, and {live} live codes need it")
        self.key = key
        self.live = live


class DatabaseTooNew(DatabaseUnusable):
    """Written by a newer version of the station: a migration this code does not know."""

    exit_code = EXIT_INCOMPATIBLE

    def __init__(self, path: Path, revision: str) -> None:
        super().__init__(
            path,
            f"its schema revision {revision!r} is not one this version knows "
            f"(the newest it knows is {head_revision()!r})",
        )
        self.revision = revision


class NotAStationDatabase(DatabaseUnusable):
    """A healthy SQLite file with tables, but no migration revision: some other program's."""

    exit_code = EXIT_INCOMPATIBLE


@dataclass(frozen=True)
class DatabaseCheck:
    """A file that passed: absent or empty (a new station), or at a known revision."""

    path: Path
    exists: bool
    revision: str | None  # None: no schema yet
    pages: int

    @property
    def is_new(self) -> bool:
        return self.revision is None

    @property
    def needs_upgrade(self) -> bool:
        return self.revision != head_revision()


@cache
def known_revisions() -> frozenset[str]:
    return frozenset(revision_graph())


def check_database(
    path: Path, *, thorough: bool = False, require_known: bool = True
) -> DatabaseCheck:
    """Check ``path`` without changing it; raise a :class:`DatabaseUnusable` if it fails.

    ``require_known=False`` accepts any revision (a copy of a newer version's database is
    still a good copy).
    """
    if not path.exists():
        return DatabaseCheck(path=path, exists=False, revision=None, pages=0)
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?{_open_mode(path)}", uri=True)
    except sqlite3.Error as exc:
        raise DatabaseDamaged(path, str(exc)) from exc
    try:
        pages, revision, tables = _inspect(connection, path, thorough=thorough)
    finally:
        connection.close()
    if revision is None and tables:
        raise NotAStationDatabase(
            path,
            "it has tables (" + ", ".join(sorted(tables)[:5]) + ") but no migration "
            "revision: it is not a database of this station",
        )
    if require_known and revision is not None and revision not in known_revisions():
        raise DatabaseTooNew(path, revision)
    return DatabaseCheck(path=path, exists=True, revision=revision, pages=pages)


def _open_mode(path: Path) -> str:
    """Read-only, and with no side file at all when there is no WAL to read.

    A read-only reader of a WAL-mode file still creates its ``-wal`` and ``-shm``; when
    neither exists, no process has the file open and no committed transaction waits in a
    WAL, so the file alone is the whole database and is opened ``immutable`` (no locks, no
    side files). Otherwise the WAL is read as every reader reads it (which may rebuild the
    ``-shm``, an index that holds no data; the database file and its WAL stay untouched).
    """
    sides = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    return "mode=ro" if any(side.exists() for side in sides) else "immutable=1"


def _inspect(
    connection: sqlite3.Connection, path: Path, *, thorough: bool
) -> tuple[int, str | None, list[str]]:
    pragma = "integrity_check" if thorough else "quick_check"
    try:
        verdict = [" ".join(str(row[0]).split()) for row in connection.execute(f"PRAGMA {pragma}")]
        if verdict != ["ok"]:
            shown = verdict[:MAX_DETAIL_LINES]
            if len(verdict) > len(shown):
                shown.append(f"... and {len(verdict) - len(shown)} more")
            raise DatabaseDamaged(path, f"{pragma} found: " + "; ".join(shown))
        pages = int(connection.execute("PRAGMA page_count").fetchone()[0])
        tables = [
            str(row[0])
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        revision: str | None = None
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = None if row is None else str(row[0])
            if revision is None:
                raise DatabaseDamaged(path, "its alembic_version table is empty")
    except sqlite3.DatabaseError as exc:
        raise DatabaseDamaged(path, str(exc)) from exc
    return pages, revision, [name for name in tables if name != "alembic_version"]
