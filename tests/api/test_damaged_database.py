"""``locker serve`` on a damaged database, and the way back with ``locker db``: real
processes on real files, as an installer meets them after a power cut."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from api.runtime import running_station
from locker.store.backups import backups, key_beside, new_backup_path, write_backup
from locker.store.check import EXIT_DAMAGED, EXIT_INCOMPATIBLE
from locker.store.station_lock import StationBusy
from tests.api.live import live_station
from tests.api.test_locker_command import LOCKER, _free_port, _start, _stop, _until_up, run
from tests.db_damage import DAMAGE, page_overwritten, seeded_station
from tests.support import FakeClock

SAID = {  # what SQLite (or the check) says, as the message quotes it
    "garbage": "SQLite says: file is not a database",
    "truncated": "SQLite says: database disk image is malformed",
    "page_overwritten": "SQLite says: quick_check found: *** in database main *** Page",
    "newer_revision": "schema revision '9999_from_the_future' is not one this version knows",
}


def _serve_each(folders: list[Path]) -> list[subprocess.CompletedProcess[str]]:
    """``locker serve`` on each data folder, as systemd would start it, all at once (the
    machine has two cores); a refusal ends it, a station that started instead would run
    into the timeout."""
    processes = [
        subprocess.Popen(
            [*LOCKER, "serve", "--port", str(_free_port()), "--data-dir", str(folder)],
            cwd=folder.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for folder in folders
    ]
    done = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=60)
            done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    finally:
        for process in processes:  # a station that started after all is not left running
            if process.poll() is None:
                process.kill()
                process.communicate()
    return done


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of a data folder that holds data (not the lock, not the -shm index)."""
    return {
        p.name: p.read_bytes()
        for p in folder.iterdir()
        if p.is_file() and not p.name.endswith((".lock", "-shm"))
    }


def test_serve_refuses_each_damaged_database_the_same_way_every_time(tmp_path: Path) -> None:
    kinds = sorted(DAMAGE)
    seeded = {kind: seeded_station(tmp_path / kind / "var") for kind in kinds}
    made = {}
    for kind in kinds:
        settings = seeded[kind].settings
        made[kind] = write_backup(
            seeded[kind].database,
            settings.key_path,
            new_backup_path(settings.backup_path, FakeClock().now),
        )
        DAMAGE[kind](seeded[kind].database)
    before = {kind: _files(seeded[kind].settings.data_dir) for kind in kinds}
    folders = [seeded[kind].settings.data_dir for kind in kinds]

    first = dict(zip(kinds, _serve_each(folders), strict=True))
    second = dict(zip(kinds, _serve_each(folders), strict=True))

    for kind in kinds:
        settings, backup = seeded[kind].settings, made[kind]
        database = settings.database_path.resolve()
        expected = EXIT_INCOMPATIBLE if kind == "newer_revision" else EXIT_DAMAGED
        for done in (first[kind], second[kind]):
            assert done.returncode == expected, (kind, done.stderr)
            assert "Traceback" not in done.stderr, kind
            assert "API docs" not in done.stdout, kind  # never half started
        assert second[kind].stderr == first[kind].stderr, kind
        message = first[kind].stderr
        assert str(database) in message, kind
        assert SAID[kind] in message, (kind, message)
        assert f"Nothing was changed: {database} is left exactly as it was." in message
        taken = "(taken 2026-11-01 09:00:00 UTC, revision"
        assert f"The newest good backup is {backup.path.resolve()} {taken}" in message
        force = " --force" if kind == "newer_revision" else ""
        command = f"locker db restore --data-dir {settings.data_dir.resolve()}{force}"
        assert f"    {command} {backup.path.resolve()}\n" in message, (kind, message)
        kept = "replaced" if kind == "newer_revision" else "damaged"
        assert f"as {database}.{kept}-<UTC time> (with its -wal and -shm)" in message
        assert "RestartPreventExitStatus=65 78" in message
        assert message.rstrip().endswith(f"(exit code {expected})")
        assert _files(settings.data_dir) == before[kind], kind  # byte for byte


def test_restore_from_the_command_line_then_the_station_has_its_parcels(
    tmp_path: Path,
) -> None:
    seeded = seeded_station(tmp_path / "var")
    env = {"LOCKER_DATA_DIR": str(tmp_path / "var")}
    made = run("db", "backup", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    [backup] = backups(seeded.settings.backup_path)
    assert made.stdout.startswith(f"backup: {backup.resolve()} (taken ")
    assert "with its key" in made.stdout

    # The disk fails: a page of the database is noise and the key file is gone.
    page_overwritten(seeded.database)
    seeded.settings.key_path.unlink()
    damaged = seeded.database.read_bytes()

    checked = run("db", "check", cwd=tmp_path, env=env)
    assert checked.returncode == EXIT_DAMAGED
    assert f"The database {seeded.database.resolve()} is damaged." in checked.stderr

    # A damaged backup is refused, and nothing changes.
    bad = tmp_path / "bad-backup.db"
    bad.write_bytes(backup.read_bytes())
    page_overwritten(bad)
    refused = run("db", "restore", str(bad), cwd=tmp_path, env=env)
    assert refused.returncode == EXIT_DAMAGED
    assert refused.stderr.startswith(f"not restored: the backup {bad.resolve()} cannot be used")
    assert "Nothing was changed." in refused.stderr
    assert seeded.database.read_bytes() == damaged

    restored = run("db", "restore", str(backup), cwd=tmp_path, env=env)
    assert restored.returncode == 0, restored.stderr
    out = restored.stdout
    assert f"restored {backup.resolve()} (taken " in out
    aside = re.search(r"kept station\.db as (\S+\.damaged-\d{8}T\d{6}Z)\n", out)
    assert aside is not None
    assert Path(aside[1]).read_bytes() == damaged
    assert "code key: put the backup's key in place" in out
    assert seeded.settings.key_path.read_bytes() == key_beside(backup).read_bytes()

    port = _free_port()
    process, lines = _start(tmp_path, port)
    try:
        front = "\n".join(lines)
        assert front.count("[#]") == len(seeded.pins)  # the stored parcels, occupied
        base = f"http://127.0.0.1:{port}"
        _until_up(base)
        for compartment, pin in seeded.pins.items():  # their codes work: the key came back
            collected = httpx.post(f"{base}/api/v1/collect", json={"code": pin}, timeout=30)
            assert collected.status_code == 200, collected.text
            assert [d["compartment_id"] for d in collected.json()["doors"]] == [compartment]
    finally:
        _stop(process)


def test_a_second_station_on_the_same_database_is_refused_before_it_opens_anything(
    tmp_path: Path,
) -> None:
    with live_station(tmp_path, background=False) as live:
        with (
            pytest.raises(StationBusy, match=f"process {os.getpid()}") as caught,
            running_station(live.ctx.settings),
        ):
            raise AssertionError("a second station started on the same database")
        assert caught.value.exit_code == 75
        with live.client(None) as anyone:  # the first one is undisturbed
            assert anyone.get("/healthz").status_code == 200
