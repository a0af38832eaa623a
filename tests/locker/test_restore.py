"""Restoring a backup: checked first, the damaged file kept, the key following the data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from locker.layout import demo_layout
from locker.runtime.startup import check_station_database, open_station
from locker.services import pickup
from locker.store.advice import refusal
from locker.store.backups import Backup, key_beside, write_backup
from locker.store.check import DatabaseDamaged, DatabaseMissing, check_database
from locker.store.restore import RestoreRefused, restore
from locker.store.station_lock import StationBusy, station_lock
from locker.testkit.memory_locks import InMemoryLocks
from tests.db_damage import Seeded, garbage, page_overwritten, seeded_station
from tests.support import FakeClock

NOW = FakeClock().now  # 2026-11-01 09:00 UTC


def _backed_up(tmp_path: Path) -> tuple[Seeded, Backup]:
    seeded = seeded_station(tmp_path / "var")
    made = write_backup(
        seeded.database, seeded.settings.key_path, tmp_path / "backups" / "station-good.db"
    )
    return seeded, made


def _with_side_files(database: Path) -> dict[str, bytes]:
    """A damaged database as a power cut leaves it: with its -wal and -shm. The bytes of
    the two that hold data (the -shm is an index any reader may rebuild)."""
    for suffix, data in (("-wal", b"wal frames"), ("-shm", b"shared memory")):
        database.with_name(database.name + suffix).write_bytes(data)
    return {
        suffix: database.with_name(database.name + suffix).read_bytes() for suffix in ("", "-wal")
    }


def test_restore_keeps_the_damaged_files_and_brings_back_parcels_and_codes(
    tmp_path: Path,
) -> None:
    seeded, backup = _backed_up(tmp_path)
    page_overwritten(seeded.database)
    damaged = _with_side_files(seeded.database)
    seeded.settings.key_path.unlink()  # lost with the disk

    done = restore(backup.path, seeded.database, seeded.settings.key_path, now=NOW)

    aside = seeded.database.with_name("station.db.damaged-20261101T090000Z")
    assert done.moved_aside == [
        (seeded.database.with_name("station.db" + s), aside.with_name(aside.name + s))
        for s in ("", "-wal", "-shm")
    ]
    for suffix, data in damaged.items():
        assert aside.with_name(aside.name + suffix).read_bytes() == data
    assert seeded.database.read_bytes() == backup.path.read_bytes()
    assert backup.path.exists()  # the backup is copied, not moved
    assert "there was none" in done.key
    assert seeded.settings.key_path.read_bytes() == key_beside(backup.path).read_bytes()
    assert seeded.settings.key_path.stat().st_mode & 0o077 == 0

    locks = InMemoryLocks([spec.id for spec in demo_layout().compartments])
    station = open_station(seeded.settings, locks)
    try:
        for compartment, pin in seeded.pins.items():
            collected = pickup.collect(station, code=pin, terminal="kiosk")
            assert [door.compartment_id for door in collected.doors] == [compartment]
    finally:
        station.db.close()


def test_the_backups_key_replaces_a_different_one_which_is_kept(tmp_path: Path) -> None:
    seeded, backup = _backed_up(tmp_path)
    garbage(seeded.database)
    key = seeded.settings.key_path
    key.write_bytes(b"another key, made after the old one was lost")
    other = key.read_bytes()
    done = restore(backup.path, seeded.database, key, now=NOW)
    replaced = key.with_name("code.key.replaced-20261101T090000Z")
    assert str(replaced) in done.key
    assert replaced.read_bytes() == other
    assert key.read_bytes() == key_beside(backup.path).read_bytes()


def test_a_backup_without_a_key_leaves_the_stations_key(tmp_path: Path) -> None:
    seeded, backup = _backed_up(tmp_path)
    key_beside(backup.path).unlink()
    garbage(seeded.database)
    key_before = seeded.settings.key_path.read_bytes()
    done = restore(backup.path, seeded.database, seeded.settings.key_path, now=NOW)
    assert done.key.startswith(f"kept {seeded.settings.key_path}: the backup has no key")
    assert seeded.settings.key_path.read_bytes() == key_before


def test_a_damaged_backup_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    seeded, backup = _backed_up(tmp_path)
    page_overwritten(seeded.database)
    page_overwritten(backup.path)
    listing = sorted(p.name for p in seeded.database.parent.iterdir())
    damaged = seeded.database.read_bytes()
    with pytest.raises(DatabaseDamaged) as caught:
        restore(backup.path, seeded.database, seeded.settings.key_path, now=NOW)
    assert caught.value.path == backup.path
    assert seeded.database.read_bytes() == damaged
    assert sorted(p.name for p in seeded.database.parent.iterdir()) == listing


def test_no_restore_under_a_running_station(tmp_path: Path) -> None:
    seeded, backup = _backed_up(tmp_path)
    garbage(seeded.database)
    damaged = seeded.database.read_bytes()
    with station_lock(seeded.database), pytest.raises(StationBusy, match="another station"):
        restore(backup.path, seeded.database, seeded.settings.key_path, now=NOW)
    assert seeded.database.read_bytes() == damaged


def test_a_healthy_database_is_replaced_only_when_forced(tmp_path: Path) -> None:
    seeded, backup = _backed_up(tmp_path)
    connection = sqlite3.connect(seeded.database)
    with connection:  # a change made after the backup
        connection.execute("UPDATE parcel SET recipient_name = 'changed since'")
    connection.close()
    healthy = seeded.database.read_bytes()
    with pytest.raises(RestoreRefused, match="is healthy"):
        restore(backup.path, seeded.database, seeded.settings.key_path, now=NOW)
    assert seeded.database.read_bytes() == healthy
    done = restore(backup.path, seeded.database, seeded.settings.key_path, now=NOW, force=True)
    [(_, kept)] = done.moved_aside
    assert kept.name == "station.db.replaced-20261101T090000Z"
    assert kept.read_bytes() == healthy
    assert check_database(seeded.database, thorough=True).revision == done.revision


def _wal_of_later_changes(database: Path) -> bytes:
    """The WAL a connection holds of changes made after the backup (as a crash leaves it)."""
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA wal_autocheckpoint = 0")
    with connection:
        connection.execute("UPDATE parcel SET recipient_name = 'changed since'")
    wal = database.with_name(database.name + "-wal").read_bytes()
    connection.close()
    assert wal
    return wal


def test_a_lost_databases_leftover_wal_is_put_aside_not_replayed_into_the_backup(
    tmp_path: Path,
) -> None:
    seeded, backup = _backed_up(tmp_path)
    wal = _wal_of_later_changes(seeded.database)
    seeded.database.unlink()  # lost; its WAL survived
    seeded.database.with_name("station.db-wal").write_bytes(wal)
    with pytest.raises(DatabaseMissing, match="write-ahead log") as caught:
        check_station_database(seeded.settings)  # a start refuses, and touches nothing
    advice = refusal(caught.value, seeded.settings)
    wal_path = seeded.database.with_name("station.db-wal").resolve()
    assert f"To start an empty station on purpose instead, move {wal_path} away." in advice
    assert seeded.database.with_name("station.db-wal").read_bytes() == wal
    assert not seeded.database.exists()

    done = restore(backup.path, seeded.database, seeded.settings.key_path, now=NOW)

    orphan = seeded.database.with_name("station.db.orphan-20261101T090000Z-wal")
    assert [kept for _, kept in done.moved_aside] == [orphan]
    assert orphan.read_bytes() == wal
    connection = sqlite3.connect(seeded.database)
    names = {row[0] for row in connection.execute("SELECT recipient_name FROM parcel")}
    connection.close()
    assert names
    assert "changed since" not in names
