"""Backups hold personal data: those older than the retention go when a new one is made
(a pre-migration one too), never the one just written."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from locker.store.backups import (
    BackupPolicy,
    BackupSchedule,
    backups,
    key_beside,
    new_backup_path,
    write_backup,
)
from tests.db_damage import seeded_station
from tests.support import FakeClock


def test_backups_older_than_the_retention_are_deleted(tmp_path: Path) -> None:
    seeded = seeded_station(tmp_path / "var")
    folder = tmp_path / "var" / "backups"
    clock = FakeClock()
    policy = BackupPolicy(
        folder=folder, every=timedelta(hours=24), keep=100, max_age=timedelta(days=30)
    )
    schedule = BackupSchedule(seeded.database, seeded.settings.key_path, policy, clock)
    old = new_backup_path(folder, clock.now - timedelta(days=31), before="0007")
    write_backup(seeded.database, seeded.settings.key_path, old)
    recent = new_backup_path(folder, clock.now - timedelta(days=29))
    write_backup(seeded.database, seeded.settings.key_path, recent)
    made = schedule.run()
    assert backups(folder) == [recent, made.path]
    assert not key_beside(old).exists()
    clock.advance(days=40)  # every earlier backup is past the retention now
    assert schedule.run_if_due() is not None
    assert len(backups(folder)) == 1  # only the one just written
