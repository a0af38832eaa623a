"""Helpers shared by the tests (imported, unlike fixtures)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from locker.codes import CodeHasher
from locker.layout import Layout
from locker.locks import Locks
from locker.station import Policy, Station, sync_layout
from locker.store.db import Database

KEY = b"k" * 32


class FakeClock:
    """A clock the test moves by hand (time is the one thing tests may fake)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def fresh_database(template: Path, directory: Path) -> Database:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "station.db"
    shutil.copyfile(template, path)
    return Database(path)


def make_station(
    db: Database, layout: Layout, locks: Locks, clock: FakeClock, policy: Policy | None = None
) -> Station:
    station = Station(
        layout=layout,
        db=db,
        locks=locks,
        hasher=CodeHasher(KEY),
        policy=policy or Policy(),
        clock=clock,
    )
    sync_layout(station)
    return station


@cache
def migrated_template() -> Path:
    """One migrated database file per test run, copied wherever a fresh one is needed."""
    folder = Path(tempfile.mkdtemp(prefix="locker-template-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "station.db"
    db = Database(path)
    db.upgrade()
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path
