"""A missing code key with live codes in the database: ``locker serve`` refuses to make
a new one (every live code would fail at the door), says why and how to put it back, and
``locker db restore-key`` puts the backup's key back; real processes on real files."""

from __future__ import annotations

import os
from pathlib import Path

from locker.layout import demo_layout
from locker.runtime.startup import open_station
from locker.services import pickup
from locker.store.backups import key_beside, new_backup_path, write_backup
from locker.store.check import EXIT_DAMAGED
from locker.testkit.memory_locks import InMemoryLocks
from tests.api.test_damaged_database import _serve_each
from tests.api.test_locker_command import run
from tests.db_damage import seeded_station
from tests.support import FakeClock


def test_serve_refuses_a_new_key_while_live_codes_need_the_old_one(tmp_path: Path) -> None:
    seeded = seeded_station(tmp_path / "var")
    settings = seeded.settings
    backup = write_backup(
        settings.database_path,
        settings.key_path,
        new_backup_path(settings.backup_path, FakeClock().now),
    )
    key = settings.key_path.read_bytes()
    settings.key_path.unlink()
    database_before = settings.database_path.read_bytes()

    (refused,) = _serve_each([settings.data_dir])
    assert refused.returncode == EXIT_DAMAGED, refused.stderr
    said = refused.stderr
    assert f"the code key {settings.key_path.resolve()} is missing" in said
    assert f"{len(seeded.pins)} live pickup or return codes" in said
    assert str(key_beside(backup.path).resolve()) in said
    assert "locker db restore-key" in said
    assert not settings.key_path.exists()  # no new key was made
    assert settings.database_path.read_bytes() == database_before

    put_back = run("db", "restore-key", "--data-dir", str(settings.data_dir), cwd=tmp_path)
    assert put_back.returncode == 0, put_back.stderr
    assert settings.key_path.read_bytes() == key
    assert os.stat(settings.key_path).st_mode & 0o777 == 0o600
    again = run("db", "restore-key", "--data-dir", str(settings.data_dir), cwd=tmp_path)
    assert again.returncode == 1  # a key that is there is never replaced
    assert "is there" in again.stderr

    # with the key back, the old PINs open their doors again
    locks = InMemoryLocks([spec.id for spec in demo_layout().compartments])
    station = open_station(settings, locks)
    try:
        for cid, pin in seeded.pins.items():
            assert pickup.collect(station, code=pin, terminal="test").all_opened
            assert locks.pulses(cid) == 1
    finally:
        station.db.close()


def test_a_missing_key_is_made_anew_when_no_live_code_needs_it(tmp_path: Path) -> None:
    seeded = seeded_station(tmp_path / "var", parcels=0)
    settings = seeded.settings
    settings.key_path.unlink()
    station = open_station(settings, InMemoryLocks([s.id for s in demo_layout().compartments]))
    station.db.close()
    assert settings.key_path.exists()


def test_restore_key_new_makes_a_key_on_purpose(tmp_path: Path) -> None:
    seeded = seeded_station(tmp_path / "var", parcels=1)
    settings = seeded.settings
    settings.key_path.unlink()
    none = run("db", "restore-key", "--data-dir", str(settings.data_dir), cwd=tmp_path)
    assert none.returncode == 1
    assert "--new" in none.stderr
    made = run("db", "restore-key", "--new", "--data-dir", str(settings.data_dir), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert settings.key_path.exists()
    station = open_station(settings, InMemoryLocks([s.id for s in demo_layout().compartments]))
    station.db.close()
