"""The names and the small file helpers of the station's backups.

A backup is ``station-<UTC time>.db`` (a pre-upgrade one adds ``-at-<old>-before-<new>``),
with its code key beside it as ``<backup>.key``. Both ``locker.store.backups`` (which
makes them) and ``locker.store.offsite`` (which seals copies of them) read these.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

NAME = re.compile(
    r"^station-(?P<at>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?"
    r"(?:-at-(?P<old>\w+))?(?:-before-(?P<rev>\w+))?\.db$"
)
TIME_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime
    revision: str | None
    key: Path | None  # the code key beside it, if it has one


def key_beside(backup: Path) -> Path:
    return backup.with_name(backup.name + ".key")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def taken_at(path: Path) -> datetime:
    """The time in a backup's name, else the file's modification time."""
    match = NAME.match(path.name)
    if match:
        return datetime.strptime(match["at"], TIME_FORMAT).replace(tzinfo=UTC)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make renames and new names in ``folder`` survive a power cut."""
    _fsync(folder)
