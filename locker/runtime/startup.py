"""Opening a station: check and migrate its database, read its key and layout, sync the
compartments."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlmodel import col, func, select

from locker.codes import CodeHasher, load_or_create_key
from locker.layout import Layout, demo_layout, load_layout
from locker.locks import Locks
from locker.runtime.settings import Settings
from locker.sensors import Thermometer
from locker.station import Station, sync_layout, utcnow
from locker.store.backups import backups, new_backup_path, write_backup
from locker.store.check import DatabaseCheck, DatabaseMissing, KeyMissing, check_database
from locker.store.db import Database, head_revision
from locker.store.tables import PickupCodeRow, ReturnCode
from locker.uplink.capture import Capture

_LOGGER = logging.getLogger(__name__)


def station_layout(settings: Settings) -> Layout:
    return load_layout(settings.layout) if settings.layout else demo_layout()


def check_station_database(settings: Settings, *, thorough: bool = False) -> DatabaseCheck:
    """The database checked before anything writes to it (see :mod:`locker.store.check`).

    A missing or empty database is a new station, unless the backup folder shows there was
    one: then the station's data was lost, and starting empty would forget every parcel in
    the compartments.
    """
    path = settings.database_path
    checked = check_database(path, thorough=thorough)
    what = "there is no database" if not checked.exists else "the database is empty"
    wal = path.with_name(path.name + "-wal")
    if not checked.exists and wal.exists() and wal.stat().st_size > 0:
        # A new file would have the lost one's log replayed into it: refuse, touch nothing.
        raise DatabaseMissing(
            path, f"{what}, but its write-ahead log {wal.name} is still there", left_behind=wal
        )
    if checked.is_new and backups(settings.backup_path):
        raise DatabaseMissing(path, f"{what}, but there are backups in {settings.backup_path}")
    return checked


def open_database(
    settings: Settings,
    checked: DatabaseCheck | None = None,
    *,
    told: Callable[[str], None] | None = None,
) -> Database:
    """The checked database at the newest migration, backed up before it is migrated.

    The backup made before an upgrade is named with both revisions
    (``station-<UTC time>-at-<old>-before-<new>.db``); where it is, and how to go back
    with it, is logged (and given to ``told``, e.g. the command line's output)."""
    checked = checked or check_station_database(settings)
    if not checked.is_new and checked.needs_upgrade:
        head = head_revision()
        before = new_backup_path(settings.backup_path, utcnow(), before=head, at=checked.revision)
        made = write_backup(settings.database_path, settings.key_path, before)
        message = (
            f"upgrading the database {settings.database_path} from revision "
            f"{checked.revision} to {head}; the backup made before the upgrade is "
            f"{made.path.resolve()} (to roll back: install the previous version, then "
            f"locker db restore --force {made.path.resolve()})"
        )
        _LOGGER.warning("%s", message)
        if told is not None:
            told(message)
    db = Database(settings.database_path)
    db.upgrade()
    return db


def open_station(
    settings: Settings,
    locks: Locks,
    layout: Layout | None = None,
    *,
    checked: DatabaseCheck | None = None,
    thermometers: Mapping[str, Thermometer] | None = None,
) -> Station:
    """A ready station: schema at the newest migration, compartments matching the layout.
    ``thermometers`` are the cold groups' sensors by the layout's [[sensor]] id.

    Raises :class:`locker.store.check.DatabaseUnusable` before anything is written when the
    database is damaged, lost or from a newer version (``checked`` is a check already made).
    """
    db = open_database(settings, checked)
    try:
        refuse_a_new_key_over_live_codes(settings, db)
        station = Station(
            layout=layout or station_layout(settings),
            db=db,
            locks=locks,
            hasher=CodeHasher(load_or_create_key(settings.key_path)),
            policy=settings.policy(),
            thermometers=dict(thermometers or {}),
        )
        if settings.hub_enabled:  # from here on every change also becomes a hub event
            db.capture = Capture(settings.hub_station, station.layout)
        sync_layout(station)
    except BaseException:
        db.close()
        raise
    return station


def live_codes(db: Database, now: datetime) -> int:
    """Pickup and return codes not used and not expired: what the code key opens."""
    with db.read() as session:
        pickup = session.exec(
            select(func.count())
            .select_from(PickupCodeRow)
            .where(col(PickupCodeRow.used_at).is_(None), col(PickupCodeRow.expires_at) > now)
        ).one()
        returns = session.exec(
            select(func.count())
            .select_from(ReturnCode)
            .where(col(ReturnCode.used_at).is_(None), col(ReturnCode.expires_at) > now)
        ).one()
    return int(pickup) + int(returns)


def refuse_a_new_key_over_live_codes(settings: Settings, db: Database) -> None:
    """A missing key is made anew only when no live code needs the old one."""
    if settings.key_path.exists():
        return
    live = live_codes(db, utcnow())
    if live:
        raise KeyMissing(settings.database_path, settings.key_path, live)
