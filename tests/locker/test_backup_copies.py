"""Backups off the SD card: every backup also goes, encrypted with the backup key, into
``LOCKER_BACKUP_COPY_TO``; a copy folder that is missing or not writable raises the
backup-failed alert and never stops the local backup; old copies go as the backups do;
and a station whose card died is restored from a copy and the key alone (``locker db
restore --from-copy``), while a wrong key or a damaged copy is refused and changes nothing.

Everything is real: the station's SQLite file and code key, the backup job's own classes,
AES-GCM from ``cryptography``, the ``locker`` command in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from locker.alerts import open_alerts
from locker.layout import demo_layout
from locker.runtime.settings import Settings
from locker.runtime.startup import open_station
from locker.services import pickup
from locker.services.backup_watch import BackupWatch
from locker.store import offsite
from locker.store.backups import BackupSchedule, backups, new_backup_path, write_backup
from locker.store.check import check_database
from locker.store.db import head_revision
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import AlertKind
from tests.api.test_locker_command import LOCKER, run
from tests.db_damage import Seeded, seeded_station
from tests.support import FakeClock


def _settings(seeded: Seeded, copy_to: Path) -> Settings:
    return seeded.settings.model_copy(update={"backup_copy_to": copy_to, "backup_keep": 2})


def _schedule(settings: Settings, clock: FakeClock) -> BackupSchedule:
    return BackupSchedule(settings.database_path, settings.key_path, settings.backups(), clock)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_every_backup_gets_an_encrypted_copy_that_only_the_key_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(offsite, "CHUNK", 4096)  # many chunks from a small database
    seeded = seeded_station(tmp_path / "var")
    stick = tmp_path / "stick"
    stick.mkdir()
    settings = _settings(seeded, stick)
    clock = FakeClock()
    schedule = _schedule(settings, clock)
    made = []
    for _ in range(3):
        made.append(schedule.run())
        clock.advance(days=1)
    kept = offsite.copies(stick)
    assert [p.name for p in kept] == [m.path.name + ".lpsbak" for m in made[-2:]]  # pruned
    key = settings.backup_key_path.read_bytes()
    assert len(key) == 32
    assert settings.backup_key_path.stat().st_mode & 0o777 == 0o600
    database = made[-1].path.read_bytes()
    sealed = kept[-1].read_bytes()
    assert len(sealed) > len(database) > 3 * 4096  # several chunks, each with its tag
    for plain in (database[4096:4200], seeded.settings.key_path.read_bytes(), b"Recipient 0"):
        assert plain not in sealed  # neither the database, the code key nor a name shows

    opened = offsite.open_copy(kept[-1], key, tmp_path)
    assert opened.database.read_bytes() == database
    assert opened.code_key is not None
    assert opened.code_key.read_bytes() == seeded.settings.key_path.read_bytes()
    assert opened.revision == head_revision()


def test_a_wrong_key_or_a_damaged_copy_opens_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(offsite, "CHUNK", 4096)
    seeded = seeded_station(tmp_path / "var")
    made = write_backup(seeded.database, seeded.settings.key_path, tmp_path / "station.db")
    key = offsite.load_or_create_backup_key(tmp_path / "backup.key")
    good = tmp_path / "good.lpsbak"
    with open(good, "wb") as out:
        offsite.encrypt_backup(made, key, out)
    data = good.read_bytes()
    chunk = 4096 + offsite.TAG
    header = 24
    cases = {
        "flipped": data[:5000] + bytes([data[5000] ^ 1]) + data[5001:],
        "cut off": data[: header + 2 * chunk],  # whole chunks, the last one missing
        "swapped": data[:header]
        + data[header + chunk : header + 2 * chunk]
        + data[header : header + chunk]
        + data[header + 2 * chunk :],
        "not a copy": made.path.read_bytes(),
    }
    opened_into = tmp_path / "opened"
    opened_into.mkdir()
    for name, damaged in cases.items():
        path = tmp_path / f"{name}.lpsbak"
        path.write_bytes(damaged)
        with pytest.raises(offsite.CopyUnreadable) as refused:
            offsite.open_copy(path, key, opened_into)
        said = str(refused.value)
        assert ("not an encrypted backup" if name == "not a copy" else "damaged") in said, name
        assert list(opened_into.iterdir()) == [], name  # nothing left behind
    other = bytes(32)
    with pytest.raises(offsite.CopyUnreadable, match="made with another backup key"):
        offsite.open_copy(good, other, opened_into)
    assert offsite.parse_key_text(offsite.key_text(key)) == key
    with pytest.raises(ValueError, match="starts with 'lpsbk1-'"):
        offsite.parse_key_text("hunter2")


def test_a_missing_or_unwritable_copy_folder_alerts_staff_and_the_local_backup_stands(
    tmp_path: Path,
) -> None:
    seeded = seeded_station(tmp_path / "var")
    stick = tmp_path / "media" / "stick"  # not mounted: not there at all
    settings = _settings(seeded, stick)
    clock = FakeClock()
    locks = InMemoryLocks([spec.id for spec in demo_layout().compartments])
    station = open_station(settings, locks)
    station.clock = clock
    try:
        watch = BackupWatch(station, _schedule(settings, clock))
        made = watch.tick()
        assert made is not None
        assert made.path.exists()
        assert check_database(made.path, thorough=True).revision == head_revision()
        assert not stick.exists()  # never made by the station: it would be on the card
        [alert] = _alerts(station)
        assert f"the copy folder {stick} does not exist" in alert.detail
        assert "is the USB stick or the share mounted?" in alert.detail
        assert watch.last_good() == made.taken_at

        stick.mkdir(parents=True)
        os.chmod(stick, 0o500)  # mounted read-only
        clock.advance(minutes=1)
        if os.geteuid() != 0:  # root writes anyway
            assert watch.tick() is made  # only the copy is tried again
            [alert] = _alerts(station)
            assert f"cannot write into the copy folder {stick}" in alert.detail
            clock.advance(minutes=2)
        os.chmod(stick, 0o700)
        assert watch.tick() is made  # mended: the same backup's copy, no new backup
        assert _alerts(station) == []
        assert [p.name for p in offsite.copies(stick)] == [made.path.name + ".lpsbak"]
        assert backups(settings.backup_path) == [made.path]
    finally:
        station.db.close()


def _alerts(station: object) -> list[object]:
    with station.db.read() as session:  # type: ignore[attr-defined]
        return [a for a in open_alerts(session) if a.kind is AlertKind.BACKUP_FAILED]


def test_a_station_whose_card_died_is_restored_from_the_copy_and_the_key(tmp_path: Path) -> None:
    seeded = seeded_station(tmp_path / "var")
    data = tmp_path / "var"
    stick = tmp_path / "stick"
    stick.mkdir()
    env = {"LOCKER_DATA_DIR": str(data), "LOCKER_BACKUP_COPY_TO": str(stick)}
    printed = run("db", "backup-key", cwd=tmp_path, env=env)
    assert printed.returncode == 0, printed.stderr
    key_line = printed.stdout.strip()
    assert key_line.startswith("lpsbk1-")
    assert "Keep this line OFF the station" in printed.stderr
    schedule = _schedule(_settings(seeded, stick), FakeClock())
    made = schedule.run()
    [copy] = offsite.copies(stick)
    wrong = offsite.key_text(bytes(range(32)))

    shutil.rmtree(data)  # the SD card died: database, code key and backup key are gone
    data.mkdir()
    refused = run(
        "db", "restore", "--from-copy", str(copy), "--backup-key", wrong, cwd=tmp_path, env=env
    )
    assert refused.returncode == 65, refused.stderr
    assert "made with another backup key" in refused.stderr
    assert "Nothing was changed." in refused.stderr
    assert list(data.iterdir()) == []  # nothing at all
    damaged = tmp_path / copy.name
    damaged.write_bytes(copy.read_bytes()[:-1])
    refused = run(
        "db",
        "restore",
        "--from-copy",
        str(damaged),
        "--backup-key",
        key_line,
        cwd=tmp_path,
        env=env,
    )
    assert refused.returncode == 65, refused.stderr
    assert "damaged (chunk 0 does not open" in refused.stderr
    assert list(data.iterdir()) == []

    done = subprocess_with_stdin(
        ["db", "restore", "--from-copy", str(copy), "--backup-key", "-"], key_line, tmp_path, env
    )
    assert done.returncode == 0, done.stderr
    assert f"restored {copy.resolve()}" in done.stdout
    assert f"revision {made.revision}" in done.stdout
    assert "put the backup's key in place" in done.stdout
    left = sorted(p.name for p in data.iterdir() if not p.name.endswith(".lock"))
    assert left == ["code.key", "station.db"]  # the opened copy is not left behind

    settings = seeded.settings
    locks = InMemoryLocks([spec.id for spec in demo_layout().compartments])
    station = open_station(settings, locks)
    try:
        for compartment, pin in seeded.pins.items():  # the old codes open the old doors
            opened = pickup.collect(station, code=pin, terminal="kiosk")
            assert [d.compartment_id for d in opened.doors] == [compartment]
    finally:
        station.db.close()


def subprocess_with_stdin(
    args: list[str], text: str, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOCKER, *args],
        cwd=cwd,
        input=text + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_copies_older_than_the_retention_go_and_pre_upgrade_ones_are_not_rotated(
    tmp_path: Path,
) -> None:
    seeded = seeded_station(tmp_path / "var")
    stick = tmp_path / "stick"
    stick.mkdir()
    settings = _settings(seeded, stick)
    key = offsite.load_or_create_backup_key(settings.backup_key_path)
    clock = FakeClock()
    before = write_backup(
        seeded.database,
        settings.key_path,
        new_backup_path(settings.backup_path, clock.now, before="0015", at="0014"),
    )
    offsite.write_copy(before, key, stick)
    schedule = _schedule(settings, clock)
    for _ in range(3):
        clock.advance(days=1)
        schedule.run()
    names = [p.name for p in offsite.copies(stick)]
    assert names[0] == before.path.name + ".lpsbak"  # kept beside the newest two
    assert len(names) == 3
    clock.advance(days=settings.retention_days + 1)
    schedule.run()
    assert len(offsite.copies(stick)) == 1  # only the one just made: the rest too old
    assert timedelta(days=settings.retention_days) == settings.backups().max_age
