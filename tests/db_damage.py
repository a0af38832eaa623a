"""A station's data folder with parcels in it, and the ways its database file gets damaged.

Everything is real: the station is opened with ``open_station`` on a SQLite file and its
own code key, parcels are deposited and stored through the services, and the damage is
done to the bytes of the closed file.
"""

from __future__ import annotations

import os
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from locker.layout import demo_layout
from locker.runtime.settings import Settings
from locker.runtime.startup import open_station
from locker.services import deposit, intake
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import SizeClass

PAGE = 4096


@dataclass(frozen=True)
class Seeded:
    settings: Settings
    pins: dict[int, str]  # compartment id -> the PIN of the parcel stored in it

    @property
    def database(self) -> Path:
        return self.settings.database_path


def station_settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]


def seeded_station(data_dir: Path, parcels: int = 2) -> Seeded:
    """A closed station (demo layout) with ``parcels`` stored parcels and their PINs."""
    settings = station_settings(data_dir)
    locks = InMemoryLocks([spec.id for spec in demo_layout().compartments])
    station = open_station(settings, locks)
    pins: dict[int, str] = {}
    try:
        for n in range(parcels):
            data = intake.ParcelInput(
                carrier="Parcel Co",
                tracking_number=f"BACKUP-{n}",
                recipient_name=f"Recipient {n}",
                size=SizeClass.S,
            )
            held = deposit.reserve(station, actor="courier", parcel=data)
            deposit.deposit(station, actor="courier", parcel_id=held.parcel_id)
            locks.put(held.compartment_id)
            locks.close(held.compartment_id)
            stored = deposit.confirm_stored(station, parcel_id=held.parcel_id)
            assert stored.code is not None
            pins[stored.compartment_id] = stored.code.pin
    finally:
        station.db.close()  # the last connection: the WAL is checkpointed into the file
    assert not database_wal(settings.database_path).exists()
    return Seeded(settings, pins)


def database_wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def root_page(path: Path, name: str) -> int:
    """The first page of a table or index."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)
    try:
        row = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)
        ).fetchone()
    finally:
        connection.close()
    return int(row[0])


def garbage(path: Path) -> None:
    """The file is replaced by noise of the same size (not a database at all)."""
    path.write_bytes(random.Random(7).randbytes(path.stat().st_size))


def truncated(path: Path) -> None:
    """The file lost its second half."""
    os.truncate(path, path.stat().st_size // 2)


def page_overwritten(path: Path) -> None:
    """One page in the middle (an index of the parcel table) is noise: the file still opens,
    its revision and its parcels still read, but ``quick_check`` names the page."""
    page = root_page(path, "ix_parcel_tracking_number")
    assert 1 < page < path.stat().st_size // PAGE  # in the middle of the file
    with open(path, "r+b") as fh:
        fh.seek((page - 1) * PAGE)
        fh.write(random.Random(11).randbytes(PAGE))


def newer_revision(path: Path) -> None:
    """As if a newer version of the station had migrated it."""
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    connection.close()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "garbage": garbage,
    "truncated": truncated,
    "page_overwritten": page_overwritten,
    "newer_revision": newer_revision,
}
