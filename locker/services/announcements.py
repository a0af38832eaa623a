"""Announcements that lapse: a parcel announced (by its carrier at the station, or through
the hub) that no courier brought in within ``Policy.announcement_expiry``
(``LOCKER_ANNOUNCEMENT_EXPIRY_DAYS``, 7 by default) ends as ``lapsed``. Its carrier hears
of it like of any change of its parcels (its webhook here, the hub's stream through the
uplink), the hub's view drops it, and its tracking number is free again."""

from __future__ import annotations

from sqlmodel import col, select

from locker.lifecycle import move
from locker.station import Station
from locker.store.tables import Parcel
from locker.types import ParcelState


def lapse_announcements(station: Station) -> list[int]:
    """End the announcements no courier brought in within ``announcement_expiry``: the
    parcel becomes ``lapsed`` (its carrier hears of it, by its webhook and through the
    hub), and its tracking number is free again. Returns their ids."""
    now = station.now()
    since = now - station.policy.announcement_expiry
    with station.db.write() as session:
        due = session.exec(
            select(Parcel).where(
                Parcel.state == ParcelState.ANNOUNCED, col(Parcel.created_at) <= since
            )
        ).all()
        for parcel in due:
            move(
                session,
                parcel,
                ParcelState.LAPSED,
                actor="system",
                now=now,
                detail=f"announced, not brought in within {station.policy.announcement_expiry}",
            )
            parcel.finished_at = now
        return [p.id for p in due if p.id is not None]
