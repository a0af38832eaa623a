"""Backups: consistent while the station writes, checked, rotated, with the key beside."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command

from locker.audit import record
from locker.codes import load_or_create_key
from locker.runtime.startup import open_database
from locker.station import utcnow
from locker.store import backups as backups_module
from locker.store.backups import (
    ABANDONED_AFTER_S,
    BackupError,
    BackupPolicy,
    BackupSchedule,
    backups,
    key_beside,
    new_backup_path,
    write_backup,
)
from locker.store.check import DatabaseUnusable, check_database
from locker.store.db import Database, alembic_config, head_revision
from tests.db_damage import page_overwritten, seeded_station, station_settings
from tests.support import FakeClock

ROWS_PER_TRANSACTION = 7


def _count(path: Path, sql: str) -> int:
    connection = sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True)
    try:
        return int(connection.execute(sql).fetchone()[0])
    finally:
        connection.close()


def test_a_backup_taken_while_a_writer_writes_is_one_consistent_snapshot(tmp_path: Path) -> None:
    seeded = seeded_station(tmp_path / "var")
    marker = "backup.test"
    writer_db = Database(seeded.database)
    stop = threading.Event()
    committed = [0]

    def write() -> None:  # transactions of 7 audit rows, as fast as the file allows
        while not stop.is_set():
            with writer_db.write() as session:
                for _ in range(ROWS_PER_TRANSACTION):
                    record(session, actor="writer", action=marker, now=utcnow())
            committed[0] += 1

    def wait_for_commits(n: int) -> None:
        for _ in range(5000):
            if committed[0] >= n:
                return
            stop.wait(0.001)
        raise AssertionError("the writer made no progress")

    writer = threading.Thread(target=write, name="backup-test-writer")
    writer.start()
    seen: list[int] = []
    try:
        for n in range(6):
            wait_for_commits(committed[0] + 3)  # the writer is busy between two backups
            made = write_backup(
                seeded.database,
                seeded.settings.key_path,
                tmp_path / "backups" / f"during-{n}.db",
            )
            assert check_database(made.path, thorough=True).revision == head_revision()
            rows = _count(made.path, f"SELECT count(*) FROM audit WHERE action = '{marker}'")
            assert rows % ROWS_PER_TRANSACTION == 0  # never half a transaction
            seen.append(rows)
    finally:
        stop.set()
        writer.join()
        writer_db.close()
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)  # each backup saw newer commits than the one before
    live = _count(seeded.database, f"SELECT count(*) FROM audit WHERE action = '{marker}'")
    assert live == committed[0] * ROWS_PER_TRANSACTION > seen[-1]
    # One self-contained file (no -wal beside it), and the key beside it, private.
    made_path = tmp_path / "backups" / "during-5.db"
    assert not made_path.with_name("during-5.db-wal").exists()
    assert key_beside(made_path).read_bytes() == seeded.settings.key_path.read_bytes()
    assert key_beside(made_path).stat().st_mode & 0o077 == 0
    assert (tmp_path / "backups").stat().st_mode & 0o077 == 0


def test_a_backup_never_overwrites_and_needs_a_database(tmp_path: Path) -> None:
    seeded = seeded_station(tmp_path / "var")
    dest = tmp_path / "copy.db"
    write_backup(seeded.database, seeded.settings.key_path, dest)
    before = dest.read_bytes()
    with pytest.raises(BackupError, match="exists already"):
        write_backup(seeded.database, seeded.settings.key_path, dest)
    assert dest.read_bytes() == before
    with pytest.raises(BackupError, match="no database to back up"):
        write_backup(tmp_path / "nothing.db", None, tmp_path / "other.db")
    assert not (tmp_path / "other.db").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_failed_backup_leaves_neither_copy_nor_key_and_old_cut_off_copies_go(
    tmp_path: Path,
) -> None:
    seeded = seeded_station(tmp_path / "var")
    folder = tmp_path / "backups"
    folder.mkdir()
    abandoned = folder / ".station-20261020T090000Z.db.abc.tmp"  # a backup killed midway
    recent = folder / ".station-20261101T085959Z.db.def.tmp"  # perhaps still being written
    for tmp in (abandoned, recent):
        tmp.write_bytes(b"half a copy")
    old = time.time() - ABANDONED_AFTER_S - 60
    os.utime(abandoned, (old, old))
    page_overwritten(seeded.database)
    dest = folder / "station-damaged.db"
    with pytest.raises(DatabaseUnusable):  # the copy fails its check
        write_backup(seeded.database, seeded.settings.key_path, dest)
    assert sorted(p.name for p in folder.iterdir()) == [recent.name]


def test_a_backup_cut_off_after_its_key_was_copied_leaves_no_lone_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = seeded_station(tmp_path / "var")
    folder = tmp_path / "backups"

    dest = folder / "station-full.db"
    real_replace = os.replace

    def disk_full_at_the_last_step(src: str | Path, dst: str | Path) -> None:
        if Path(dst) == dest:  # the key is in place; the copy's rename fails
            assert key_beside(dest).exists()
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(backups_module.os, "replace", disk_full_at_the_last_step)
    with pytest.raises(BackupError, match="No space left"):
        write_backup(seeded.database, seeded.settings.key_path, dest)
    assert list(folder.iterdir()) == []


def test_the_job_backs_up_when_due_and_keeps_the_newest(tmp_path: Path) -> None:
    seeded = seeded_station(tmp_path / "var")
    folder = tmp_path / "var" / "backups"
    clock = FakeClock()
    policy = BackupPolicy(folder=folder, every=timedelta(hours=24), keep=3)
    schedule = BackupSchedule(seeded.database, seeded.settings.key_path, policy, clock)
    # A backup made before a migration is never rotated away.
    before = new_backup_path(folder, clock.now - timedelta(days=30), before="0005")
    write_backup(seeded.database, seeded.settings.key_path, before)

    first = schedule.run_if_due()  # none yet: one at once
    assert first is not None
    assert first.path.name == "station-20261101T090000Z.db"
    assert schedule.run_if_due() is None
    clock.advance(hours=23, minutes=59)
    assert schedule.run_if_due() is None
    made = [first]
    for _ in range(4):
        clock.advance(hours=24)
        backup = schedule.run_if_due()
        assert backup is not None
        made.append(backup)
        assert schedule.run_if_due() is None

    kept = backups(folder)
    assert kept == [before, *(m.path for m in made[-3:])]
    for path in kept:
        assert check_database(path, thorough=True).revision == head_revision()
        assert key_beside(path).stat().st_mode & 0o077 == 0
    for gone in made[:2]:
        assert not gone.path.exists()
        assert not key_beside(gone.path).exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [p.name for p in kept] + [key_beside(p).name for p in kept]
    )

    # After a restart the newest backup on disk counts: no second one the same day.
    clock.advance(hours=12)
    again = BackupSchedule(seeded.database, seeded.settings.key_path, policy, clock)
    assert again.run_if_due() is None
    clock.advance(hours=12)
    assert again.run_if_due() is not None

    # A clock set back by more than the interval (a board without a battery) makes one
    # at once, and it survives the rotation though its name sorts first.
    clock.now -= timedelta(days=40)
    back = again.run_if_due()
    assert back is not None
    assert back.path.exists()
    assert len([p for p in backups(folder) if "-before-" not in p.name]) == 3


def test_a_migration_is_preceded_by_a_backup(tmp_path: Path) -> None:
    settings = station_settings(tmp_path / "var")
    old = Database(settings.database_path)
    with old.engine.connect() as connection:  # a station last run by an older version
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        connection.exec_driver_sql(
            "INSERT INTO audit (at, actor, action, detail) VALUES ('2026-10-01', 'x', 'old', '')"
        )
        connection.commit()
    old.close()
    key = load_or_create_key(settings.key_path)
    original = settings.database_path.read_bytes()

    db = open_database(settings)
    db.close()
    [before] = backups(settings.backup_path)
    assert before.name.endswith(f"-at-0004-before-{head_revision()}.db")
    assert check_database(before, thorough=True).revision == "0004"
    assert _count(before, "SELECT count(*) FROM audit WHERE action = 'old'") == 1
    assert key_beside(before).read_bytes() == key
    assert check_database(settings.database_path).revision == head_revision()
    assert original != settings.database_path.read_bytes()
