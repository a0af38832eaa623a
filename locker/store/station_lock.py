"""One station process per database: ``locker serve`` holds a lock while it runs.

The lock is an ``flock`` on ``<database>.lock``: the kernel drops it when the process
ends, however it ends (SIGKILL, power cut), so a stale lock cannot keep a station down.
``locker db restore`` takes the same lock, so it never swaps the file under a running
station, and a station cannot start halfway through a restore.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

EXIT_BUSY = 75  # sysexits EX_TEMPFAIL: try again later


class StationBusy(Exception):
    exit_code: ClassVar[int] = EXIT_BUSY

    def __init__(self, lock: Path, holder: str) -> None:
        super().__init__(
            f"{lock}: the database is in use by another station process ({holder}); stop it first"
        )
        self.lock = lock


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def station_lock(database: Path) -> Iterator[Path]:
    """Hold the database's lock for the ``with`` block, or raise :class:`StationBusy`."""
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            raise StationBusy(path, f"process {holder}" if holder else "unknown process") from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock
