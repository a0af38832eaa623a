"""More time, asked for by the recipient: by the link in a message, or at the kiosk with
the code. Limited to ``limit`` extensions of ``by`` each (staff may always extend)."""

from __future__ import annotations

from datetime import datetime, timedelta

from locker.audit import refused
from locker.errors import CodeInvalid, DomainError, TooManyAttempts
from locker.services.deadlines import prolong
from locker.services.pickup import parcels_of_code
from locker.station import Station, get_parcel
from locker.store.tables import Parcel
from locker.types import ParcelState


class ExtensionRefused(DomainError):
    code = "extension_refused"
    status = 409


def _extend(parcel: Parcel, *, by: timedelta, limit: int, now: datetime) -> datetime:
    if parcel.state not in (ParcelState.STORED, ParcelState.EXPIRED):
        raise ExtensionRefused(f"parcel {parcel.id} is no longer waiting in the station")
    if parcel.extensions >= limit:
        raise ExtensionRefused(
            f"parcel {parcel.id} was extended {parcel.extensions} time(s) already; "
            "the shop's staff can give more time"
        )
    parcel.extensions += 1
    return max(parcel.deadline or now, now) + by


def extend_by_link(station: Station, parcel_id: int, *, by: timedelta, limit: int) -> datetime:
    """The recipient followed the link in a message; the new deadline."""
    now = station.now()
    with station.db.write() as session:
        parcel = get_parcel(session, parcel_id)
        until = _extend(parcel, by=by, limit=limit, now=now)
        prolong(session, parcel, until, actor="recipient:link", now=now)
    return until


def extend_by_code(
    station: Station, *, code: str, terminal: str, by: timedelta, limit: int
) -> list[tuple[int, datetime]]:
    """At the kiosk: every parcel the code opens gets more time (nothing opens); wrong
    codes count against the attempt limits as for a collection."""
    now = station.now()
    changed: list[tuple[int, datetime]] = []
    try:
        with station.db.write() as session:
            parcels = parcels_of_code(session, station, code, terminal=terminal, now=now)
            for parcel in parcels:
                assert parcel.id is not None
                until = _extend(parcel, by=by, limit=limit, now=now)
                prolong(session, parcel, until, actor=f"recipient@{terminal}", now=now)
                changed.append((parcel.id, until))
    except TooManyAttempts as exc:  # rolled back: audited on its own, one row a minute
        with station.db.write() as session:
            refused(
                session,
                actor=f"customer@{terminal}",
                action="extend.refused",
                now=now,
                why=exc.code,
            )
        raise
    if not parcels:
        raise CodeInvalid()
    return changed
