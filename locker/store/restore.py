"""Put a backup in place of a damaged database; the damaged file is kept, never deleted.

Order: check the backup thoroughly, take the station's lock (no station may be running),
copy the backup beside the database and check the copy, move the damaged database and
its ``-wal``/``-shm`` aside (``station.db.damaged-<UTC time>``, ``…-wal``, ``…-shm``:
the WAL keeps its database's name, so the damaged file still opens with it for a
salvage; a lost database's leftover ``-wal``/``-shm`` go aside as ``….orphan-<UTC time>``,
or SQLite would replay them into the backup), rename the copy into place, and deal with
the key.

The key follows the database: codes in a database are hashed under the key that was in
use when it was backed up. So the backup's key is put in place when the station has
none or a different one (the different one is kept as ``code.key.replaced-<UTC time>``),
and the station's key stays when the backup has none beside it.

A healthy database is replaced only with ``force``: restoring loses every change made
after the backup was taken.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from locker.store.backups import copy_secret, fsync_dir, key_beside, stamp, taken_at
from locker.store.check import (
    DatabaseCheck,
    DatabaseDamaged,
    DatabaseUnusable,
    check_database,
)
from locker.store.station_lock import station_lock

SIDE_FILES = ("", "-wal", "-shm")


class RestoreRefused(Exception):
    """A restore that would lose data nobody asked to lose."""

    exit_code = 1


@dataclass(frozen=True)
class Restored:
    backup: Path
    database: Path
    revision: str
    taken_at: datetime
    moved_aside: list[tuple[Path, Path]] = field(default_factory=list)
    key: str = ""  # what happened to the code key, in words


def aside_name(path: Path, why: str, now: datetime) -> Path:
    """``station.db`` → ``station.db.<why>-<UTC time>``, free of any file in the folder."""
    base = f"{path.name}.{why}-{stamp(now)}"
    for n in range(1, 1000):
        candidate = path.with_name(base if n == 1 else f"{base}-{n}")
        if not any(candidate.with_name(candidate.name + s).exists() for s in SIDE_FILES):
            return candidate
    raise RestoreRefused(f"{path}: too many files named {base}")


def restore(
    backup: Path, database: Path, key_path: Path, *, now: datetime, force: bool = False
) -> Restored:
    """Replace ``database`` with ``backup`` (see the module's notes); what was done."""
    if not backup.is_file():
        raise RestoreRefused(f"{backup}: no such backup")
    if backup.resolve() == database.resolve():
        raise RestoreRefused(f"{backup}: this is the station's database itself, not a backup")
    checked = check_database(backup, thorough=True)
    if checked.revision is None:
        raise DatabaseDamaged(backup, "it holds no station data (no schema)")
    with station_lock(database):
        why = _why_replaced(database, force=force)
        if why is None and _side_files_left(database):
            why = "orphan"  # a lost database's WAL would be replayed into the backup
        copy = _checked_copy(backup, database)
        try:
            moved: list[tuple[Path, Path]] = []
            if why is not None:
                target = aside_name(database, why, now)
                for suffix in SIDE_FILES:
                    source = database.with_name(database.name + suffix)
                    if source.exists():
                        dest = target.with_name(target.name + suffix)
                        os.rename(source, dest)
                        moved.append((source, dest))
            os.replace(copy, database)
        except BaseException:
            copy.unlink(missing_ok=True)
            raise
        fsync_dir(database.parent)
        key = _restore_key(key_beside(backup), key_path, now)
    return Restored(
        backup=backup,
        database=database,
        revision=checked.revision,
        taken_at=taken_at(backup),
        moved_aside=moved,
        key=key,
    )


def _side_files_left(database: Path) -> bool:
    return any(database.with_name(database.name + s).exists() for s in SIDE_FILES[1:])


def _why_replaced(database: Path, *, force: bool) -> str | None:
    """How the file to be replaced is named aside: damaged, replaced, or none to move."""
    if not database.exists():
        return None
    try:
        current: DatabaseCheck = check_database(database, thorough=True)
    except DatabaseDamaged:
        return "damaged"
    except DatabaseUnusable as exc:  # a newer version's, or not the station's: not damaged
        if not force:
            raise RestoreRefused(
                f"{database} is not damaged ({exc.detail}); "
                "use --force to replace it with the backup anyway"
            ) from exc
        return "replaced"
    if current.revision is None:
        return "replaced"  # empty: nothing to lose, but keep it anyway
    if not force:
        raise RestoreRefused(
            f"{database} is healthy (integrity_check ok, revision {current.revision}); "
            "restoring loses every change made since the backup was taken. "
            "Use --force to replace it anyway"
        )
    return "replaced"


def _checked_copy(backup: Path, database: Path) -> Path:
    database.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=database.parent, prefix=f".{database.name}.", suffix=".tmp")
    os.close(fd)
    copy = Path(name)
    try:
        shutil.copyfile(backup, copy)
        with open(copy, "rb") as fh:
            os.fsync(fh.fileno())
        check_database(copy, thorough=False)
    except BaseException:
        copy.unlink(missing_ok=True)
        raise
    return copy


def _restore_key(backup_key: Path, key_path: Path, now: datetime) -> str:
    if not backup_key.exists():
        if key_path.exists():
            return (
                f"kept {key_path}: the backup has no key beside it ({backup_key.name}); "
                "codes issued under another key will not open a door"
            )
        return (
            f"none: the backup has no key beside it and {key_path} is missing; the station "
            "makes a new one at start, and the codes in the backup will not open a door"
        )
    if key_path.exists() and key_path.read_bytes() == backup_key.read_bytes():
        return f"kept {key_path}: it is the backup's key"
    key_path.parent.mkdir(parents=True, exist_ok=True)
    if key_path.exists():
        replaced = aside_name(key_path, "replaced", now)
        os.rename(key_path, replaced)
        copy_secret(backup_key, key_path)
        return f"put the backup's key in place at {key_path} (the other one is kept as {replaced})"
    copy_secret(backup_key, key_path)
    return f"put the backup's key in place at {key_path} (there was none)"


def restore_copy(
    copy: Path,
    backup_key: bytes,
    database: Path,
    key_path: Path,
    *,
    now: datetime,
    force: bool = False,
) -> Restored:
    """Restore from an encrypted copy (:mod:`locker.store.offsite`): opened beside the
    database, every chunk checked, then restored as a backup with its code key; the opened
    files are removed afterwards. A wrong key or a damaged copy changes nothing."""
    from locker.store.offsite import open_copy

    database.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=database.parent, prefix=".from-copy-") as tmp:
        opened = open_copy(copy, backup_key, Path(tmp))
        done = restore(opened.database, database, key_path, now=now, force=force)
    return Restored(
        backup=copy,
        database=done.database,
        revision=done.revision,
        taken_at=done.taken_at,
        moved_aside=done.moved_aside,
        key=done.key.replace(str(opened.database.parent), str(copy.parent)),
    )
