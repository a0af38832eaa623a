"""Backups of the station's database, each with a copy of the code key beside it.

A backup is made with SQLite's online backup API from a read-only connection, in one step,
so it is one consistent snapshot even while the station writes (WAL lets the writer go
on). The copy is switched to a rollback journal (one self-contained file), checked with
``PRAGMA integrity_check``, synced, and only then renamed to its final name: a file named
``station-<UTC time>.db`` is always a complete, checked backup.

The code key (``code.key``) is copied beside it as ``<backup>.key`` (mode 0600; the
folder is 0700): the codes stored in a database are keyed hashes under that key, so a
database restored without its key opens no door. The key in the backup folder is as
secret as the one in the data folder; copy the folder only to places as safe.

Backups made before a migration are named ``station-<UTC time>-at-<old>-before-<new>.db``
(the revision the database was at, and the one it was upgraded to) and are not counted by
the rotation: they are the only ones the previous version can
read. Every backup, those included, is deleted once older than the retention of personal
data (``BackupPolicy.max_age``, ``LOCKER_RETENTION_DAYS``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from locker.store.backup_names import NAME, _fsync
from locker.store.backup_names import Backup as Backup  # re-exported: the callers' one place
from locker.store.backup_names import fsync_dir as fsync_dir
from locker.store.backup_names import key_beside as key_beside
from locker.store.backup_names import stamp as stamp
from locker.store.backup_names import taken_at as taken_at
from locker.store.check import DatabaseCheck, DatabaseUnusable, check_database

_LOGGER = logging.getLogger(__name__)


class BackupError(Exception):
    """A backup could not be written (nothing was left under the backup's name)."""


def new_backup_path(
    folder: Path, now: datetime, *, before: str | None = None, at: str | None = None
) -> Path:
    """A free name in ``folder`` for a backup taken at ``now``; one made before an upgrade
    names the revision it was ``at`` and the one it is upgraded to (``before``):
    ``station-<UTC time>-at-0010-before-0015.db``."""
    suffix = (f"-at-{at}" if at and before else "") + (f"-before-{before}" if before else "")
    for n in range(1, 1000):
        count = "" if n == 1 else f"-{n}"
        path = folder / f"station-{stamp(now)}{count}{suffix}.db"
        if not path.exists():
            return path
    raise BackupError(f"{folder}: too many backups named for {stamp(now)}")


def write_backup(database: Path, key: Path | None, dest: Path) -> Backup:
    """Copy the (possibly live) ``database`` to ``dest``, check the copy, put the key beside.

    Raises :class:`BackupError` if there is no database or ``dest`` exists, and
    :class:`DatabaseUnusable` if the copy fails its check (the copy is then removed).
    """
    if not database.exists():
        raise BackupError(f"{database}: no database to back up")
    if dest.exists():
        raise BackupError(f"{dest}: exists already; choose another name")
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _remove_abandoned_copies(dest.parent)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    has_key = key is not None and key.exists()
    try:
        _copy_with_backup_api(database, tmp)
        checked = check_database(tmp, thorough=True, require_known=False)
        _fsync(tmp)
        if key is not None and has_key:  # the key first: a backup never stands without it
            copy_secret(key, key_beside(dest))
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if has_key and not dest.exists():
            key_beside(dest).unlink(missing_ok=True)
        if isinstance(exc, OSError):  # e.g. the disk is full
            raise BackupError(f"{dest}: could not write it: {exc}") from exc
        raise
    return Backup(
        path=dest,
        taken_at=taken_at(dest),
        revision=checked.revision,
        key=key_beside(dest) if has_key else None,
    )


ABANDONED_AFTER_S = 24 * 3600  # a copy in progress this old was cut off (a crash, a kill)


def _remove_abandoned_copies(folder: Path) -> None:
    """Remove the half-written copies of backups that were cut off (``.station-….tmp``)."""
    cutoff = time.time() - ABANDONED_AFTER_S
    for stale in folder.glob(".station-*.tmp"):
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < cutoff:
                stale.unlink()


def _copy_with_backup_api(database: Path, target_path: Path) -> None:
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(target_path)
        try:
            source.backup(target)  # all pages in one step: one read snapshot of the source
            target.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{database}: could not copy it: {exc}") from exc
    finally:
        source.close()


def copy_secret(source: Path, dest: Path) -> None:
    """Copy a key file with mode 0600, synced, replacing ``dest`` atomically."""
    data = source.read_bytes()
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:  # mkstemp made it 0600
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(name, dest)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)


def backups(folder: Path) -> list[Path]:
    """Every backup in ``folder``, oldest first (by the time in the name)."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if NAME.match(p.name) and p.is_file()]
    return sorted(found, key=lambda p: (taken_at(p), p.name))


def rotated(folder: Path) -> list[Path]:
    """The backups that rotation counts: all but those made before a migration."""
    return [p for p in backups(folder) if "-before-" not in p.name]


def rotate(folder: Path, keep: int, *, spare: Path | None = None) -> list[Path]:
    """Delete the oldest rotated backups (and their keys) beyond the newest ``keep``.

    ``spare`` is never deleted (the backup just made, even if the clock went back)."""
    candidates = [p for p in rotated(folder) if p != spare]
    excess = candidates[: max(0, len(candidates) - (keep - (1 if spare else 0)))]
    for path in excess:
        path.unlink()
        key_beside(path).unlink(missing_ok=True)
    if excess:
        fsync_dir(folder)
    return excess


def older_than(folder: Path, moment: datetime, *, spare: Path | None = None) -> list[Path]:
    """Delete the backups (and keys) taken before ``moment``, but never ``spare`` (the
    one just made): the retention of personal data reaches the backups too. Those made
    before a migration go as well once that old."""
    old = [p for p in backups(folder) if p != spare and taken_at(p) < moment]
    for path in old:
        path.unlink()
        key_beside(path).unlink(missing_ok=True)
    if old:
        fsync_dir(folder)
    return old


def newest_good(folder: Path) -> tuple[Backup | None, list[tuple[Path, str]]]:
    """The newest backup that passes the check at a revision this code knows, and the
    newer ones that failed it (with why)."""
    failed: list[tuple[Path, str]] = []
    for path in reversed(backups(folder)):
        try:
            checked = check_database(path, thorough=True)
        except DatabaseUnusable as exc:
            failed.append((path, exc.detail))
            continue
        if checked.revision is None:
            failed.append((path, "it holds no station data"))
            continue
        key = key_beside(path)
        return _backup(checked, key if key.exists() else None), failed
    return None, failed


def _backup(checked: DatabaseCheck, key: Path | None) -> Backup:
    return Backup(
        path=checked.path, taken_at=taken_at(checked.path), revision=checked.revision, key=key
    )


@dataclass(frozen=True)
class BackupPolicy:
    folder: Path
    every: timedelta
    keep: int
    # Rotated backups older than this are deleted too: they hold personal data that the
    # station itself erases after its retention (``LOCKER_RETENTION_DAYS``).
    max_age: timedelta | None = None
    # An encrypted copy of every backup goes here too (LOCKER_BACKUP_COPY_TO), sealed with
    # the backup key at ``backup_key`` (see locker.store.offsite).
    copy_to: Path | None = None
    backup_key: Path | None = None


class BackupSchedule:
    """The station's regular backups: one when the newest is ``every`` old, keep ``keep``.

    Due is judged by the station's clock against the newest backup in the folder (so a
    restart does not make another), then against the last one this process made.
    """

    def __init__(
        self,
        database: Path,
        key: Path | None,
        policy: BackupPolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self.database = database
        self.key = key
        self.policy = policy
        self.clock = clock
        self._last: datetime | None = None
        # Places beyond the copy folder that get the sealed copy (the hub: api.hub_backup);
        # each is given the sealed file and the backup, and raises if it did not get there.
        self.senders: list[Callable[[Path, Backup], None]] = []

    def due(self) -> bool:
        last = self._last
        if last is None:
            existing = rotated(self.policy.folder)
            last = taken_at(existing[-1]) if existing else None
        if last is None:
            return True
        age = self.clock() - last
        return age >= self.policy.every or -age >= self.policy.every  # or the clock went back

    def run_if_due(self) -> Backup | None:
        """Write a backup if one is due, then rotate; the backup made, if any."""
        if not self.due():
            return None
        return self.run()

    def run(self) -> Backup:
        """Write a backup now, then rotate."""
        now = self.clock()
        made = write_backup(self.database, self.key, new_backup_path(self.policy.folder, now))
        self._last = now
        removed = rotate(self.policy.folder, self.policy.keep, spare=made.path)
        if self.policy.max_age is not None:
            removed += older_than(self.policy.folder, now - self.policy.max_age, spare=made.path)
        _LOGGER.info("backup %s written; %s old one(s) removed", made.path, len(removed))
        self.copy(made)
        return made

    def copy(self, made: Backup) -> Path | None:
        """The encrypted copy of ``made`` in the copy folder (then the old copies pruned)
        and to each of ``senders`` (the hub), if there are any; the copy in the folder.

        Raises :class:`locker.store.offsite.CopyFailed` naming each place it did not reach
        (the local backup stands, and every other place was still tried)."""
        folder, key_path = self.policy.copy_to, self.policy.backup_key
        if key_path is None or (folder is None and not self.senders):
            return None
        from locker.store import offsite

        failed: list[str] = []
        dest: Path | None = None
        try:
            key = offsite.load_or_create_backup_key(key_path)
        except (offsite.CopyError, OSError) as exc:
            raise offsite.CopyFailed(
                made, f"the backup {made.path} was made, but not its copy: {exc}"
            ) from exc
        if folder is not None:
            try:
                dest = offsite.write_copy(made, key, folder)
                removed = offsite.prune_copies(
                    folder,
                    self.policy.keep,
                    spare=dest,
                    max_age=self.policy.max_age,
                    now=self.clock(),
                )
                _LOGGER.info("backup copy %s written; %s old copies removed", dest, len(removed))
            except (offsite.CopyError, OSError) as exc:
                failed.append(f"not its copy: {exc}")
        if self.senders:
            with tempfile.TemporaryDirectory(dir=made.path.parent, prefix=".sealing-") as tmp:
                try:
                    sealed = dest or offsite.write_copy(made, key, Path(tmp))
                except (offsite.CopyError, OSError) as exc:
                    failed.append(f"not sealed for sending: {exc}")
                else:
                    for send in self.senders:
                        try:
                            send(sealed, made)
                        except Exception as exc:  # the hub's trouble is told, not raised
                            failed.append(str(exc))
        if failed:
            raise offsite.CopyFailed(
                made, f"the backup {made.path} was made, but " + "; ".join(failed)
            )
        return dest
