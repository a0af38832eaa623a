"""Opening a station: migrate its database, read its key and layout, sync the compartments."""

from __future__ import annotations

from locker.codes import CodeHasher, load_or_create_key
from locker.db import Database
from locker.layout import Layout, demo_layout, load_layout
from locker.locks import Locks
from locker.settings import Settings
from locker.station import Station, sync_layout


def station_layout(settings: Settings) -> Layout:
    return load_layout(settings.layout) if settings.layout else demo_layout()


def open_station(settings: Settings, locks: Locks, layout: Layout | None = None) -> Station:
    """A ready station: schema at the newest migration, compartments matching the layout."""
    db = Database(settings.database_path)
    db.upgrade()
    station = Station(
        layout=layout or station_layout(settings),
        db=db,
        locks=locks,
        hasher=CodeHasher(load_or_create_key(settings.key_path)),
        policy=settings.policy(),
    )
    sync_layout(station)
    return station
