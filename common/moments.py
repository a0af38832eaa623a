"""A moment as people read it on a screen: to the minute, in a named zone, with the zone.

The databases keep UTC (a stored moment without a zone is UTC); a screen shows it in the
station's configured zone and says which ("2026-12-08 14:05 CET"), so that nobody has to
guess whether a time is local.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NONE_SHOWN = "–"


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_zone(value: datetime, zone: str = "UTC") -> datetime:
    """``value`` (naive: UTC) as a time of ``zone``."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(_zone(zone))


def moment(value: datetime | None, zone: str = "UTC") -> str:
    """E.g. "2026-12-08 14:05 CET"; "–" for no moment."""
    if value is None:
        return NONE_SHOWN
    local = in_zone(value, zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or local.strftime('%z')}"
