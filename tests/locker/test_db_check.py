"""The database check at start-up: damage is found before anything writes to the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from locker.layout import demo_layout
from locker.runtime.startup import check_station_database, open_station
from locker.store.backups import new_backup_path, write_backup
from locker.store.check import (
    EXIT_DAMAGED,
    EXIT_INCOMPATIBLE,
    DatabaseDamaged,
    DatabaseMissing,
    DatabaseTooNew,
    DatabaseUnusable,
    NotAStationDatabase,
    check_database,
)
from locker.store.db import head_revision
from locker.testkit.memory_locks import InMemoryLocks
from tests.db_damage import DAMAGE, page_overwritten, seeded_station, station_settings
from tests.support import FakeClock

EXPECTED: dict[str, tuple[type[DatabaseUnusable], str]] = {
    "garbage": (DatabaseDamaged, "file is not a database"),
    "truncated": (DatabaseDamaged, "malformed"),
    "page_overwritten": (DatabaseDamaged, "quick_check found: *** in database main *** Page"),
    "newer_revision": (DatabaseTooNew, "'9999_from_the_future' is not one this version knows"),
}


def test_a_new_and_a_healthy_database_pass(tmp_path: Path) -> None:
    missing = check_database(tmp_path / "none.db")
    assert (missing.exists, missing.is_new) == (False, True)
    seeded = seeded_station(tmp_path / "var")
    for thorough in (False, True):
        checked = check_database(seeded.database, thorough=thorough)
        assert checked.revision == head_revision()
        assert not checked.needs_upgrade
        assert checked.pages > 1


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_each_damage_is_refused_and_the_file_left_as_it_was(tmp_path: Path, kind: str) -> None:
    seeded = seeded_station(tmp_path / "var")
    DAMAGE[kind](seeded.database)
    before = seeded.database.read_bytes()
    key_before = seeded.settings.key_path.read_bytes()
    error, said = EXPECTED[kind]
    for thorough in (False, True):
        with pytest.raises(error) as caught:
            check_database(seeded.database, thorough=thorough)
        if not thorough:  # integrity_check may stop at the first broken page instead
            assert said in caught.value.detail
        assert caught.value.exit_code == (
            EXIT_INCOMPATIBLE if kind == "newer_revision" else EXIT_DAMAGED
        )
    # open_station refuses the same way before it migrates, syncs or writes anything.
    locks = InMemoryLocks([spec.id for spec in demo_layout().compartments])
    with pytest.raises(error):
        open_station(seeded.settings, locks)
    assert seeded.database.read_bytes() == before
    assert seeded.settings.key_path.read_bytes() == key_before
    assert not seeded.database.with_name("station.db-wal").exists()
    assert locks.pulses(next(iter(seeded.pins))) == 0


def test_an_overwritten_page_opens_and_reads_its_revision_but_fails_quick_check(
    tmp_path: Path,
) -> None:
    seeded = seeded_station(tmp_path / "var")
    page_overwritten(seeded.database)
    connection = sqlite3.connect(f"{seeded.database.as_uri()}?immutable=1", uri=True)
    try:
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        parcels = connection.execute("SELECT count(*) FROM parcel NOT INDEXED").fetchone()
        verdict = connection.execute("PRAGMA quick_check").fetchall()
    finally:
        connection.close()
    assert revision == (head_revision(),)
    assert parcels == (len(seeded.pins),)
    assert "btreeInitPage() returns error code 11" in verdict[0][0]


def test_a_lost_database_is_refused_when_backups_show_there_was_one(tmp_path: Path) -> None:
    seeded = seeded_station(tmp_path / "var")
    settings = seeded.settings
    write_backup(
        seeded.database,
        settings.key_path,
        new_backup_path(settings.backup_path, FakeClock().now),
    )
    seeded.database.unlink()
    with pytest.raises(DatabaseMissing) as caught:
        check_station_database(settings)
    assert "there are backups in" in caught.value.detail
    assert not seeded.database.exists()
    seeded.database.write_bytes(b"")  # an empty file is no better
    with pytest.raises(DatabaseMissing, match="the database is empty, but there are backups"):
        check_station_database(settings)
    # Without backups, a missing database is a new station.
    assert check_station_database(station_settings(tmp_path / "fresh")).is_new


def test_another_programs_database_is_not_taken_for_the_station(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE recipes (name TEXT)")
    connection.close()
    with pytest.raises(NotAStationDatabase, match="recipes"):
        check_database(path)
