"""The stations list at scale: the fleet's summary, one page of rows and the map's dots,
each by SQL over the hub's views (never every station's row loaded)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from fleet.screens.views import SIZES, StationRow, station_rows

# -- the stations list at scale: the summary and the page are SQL, not every row loaded ----

PAGE_SIZE = 50
# A station needs attention when it is offline, has an open alert or a faulty compartment,
# or is full (it reported its room, and none is free). Written so that PostgreSQL judges
# 10,000 stations in one pass: the alerts' and faults' stations are each read once into a
# hash (``IN``, not a correlated ``EXISTS``, which in the summary's ``FILTER`` became an
# index probe per station), and "none free" is a JSON path test, not a set-returning
# function per row (bench/fleet_list.py: the summary took 4× less once both were so).
_ATTENTION = (
    "(NOT s.online OR s.station IN (SELECT a.station FROM alerts a)"
    " OR s.station IN (SELECT c.station FROM compartments c WHERE c.state = 'fault')"
    " OR (s.free <> '{}'::jsonb AND NOT jsonb_path_exists(s.free, '$.* ? (@ > 0)')))"
)
_SHOW_WHERE = {
    "all": "TRUE",
    "attention": _ATTENTION,
    "offline": "NOT s.online",
    "alerts": "s.station IN (SELECT a.station FROM alerts a)",
}
# A sort by a count per station joins the counts, each table read once for the whole
# fleet (a correlated count per station made the sort by waiting parcels twice as slow
# at 10,000 stations); the free total is the sizes' own keys, as StationRow.free_total.
_COUNTS = {
    "alerts": "SELECT station, count(*) AS n FROM alerts GROUP BY station",
    "waiting": "SELECT station, count(*) AS n FROM parcels WHERE state = 'stored' GROUP BY station",
}
_FREE_TOTAL = " + ".join(f"coalesce((s.free ->> '{size}')::int, 0)" for size in SIZES)
_ORDER = {
    "name": "s.station",
    "alerts": "coalesce(k.n, 0) DESC, s.station",
    "waiting": "coalesce(k.n, 0) DESC, s.station",
    "free": f"{_FREE_TOTAL} DESC, s.station",
    "seen": "s.last_seen DESC NULLS LAST, s.station",
}


@dataclass(frozen=True)
class FleetSummary:
    """Across the fleet, from a handful of aggregates whatever the number of stations."""

    stations: int
    online: int
    attention: int
    alerts: int
    waiting: int
    free: dict[str, int]

    @property
    def offline(self) -> int:
        return self.stations - self.online


# the fleet's free compartments of each size, in the same pass as the counts
_FREE_SUMS = ", ".join(f"sum((s.free ->> '{size}')::int)" for size in SIZES)


def fleet_summary(session: Session) -> FleetSummary:
    """One statement: the stations' counts and free sums in one scan of their states, and
    the fleet's open alerts and waiting parcels (an index each)."""
    stations, online, attention, alerts, waiting, *free = session.execute(
        sa.text(
            "SELECT count(*), count(*) FILTER (WHERE s.online),"  # noqa: S608
            f" count(*) FILTER (WHERE {_ATTENTION}),"
            " (SELECT count(*) FROM alerts),"
            " (SELECT count(*) FROM parcels WHERE state = 'stored'),"
            f" {_FREE_SUMS} FROM station_state s"
        )
    ).one()
    return FleetSummary(
        stations=int(stations),
        online=int(online),
        attention=int(attention),
        alerts=int(alerts),
        waiting=int(waiting),
        free={size: int(n) for size, n in zip(SIZES, free, strict=True) if n is not None},
    )


@dataclass(frozen=True)
class RowsPage:
    rows: list[StationRow]
    total: int  # stations that match the search and filter
    page: int  # from 1
    pages: int


def rows_page(
    session: Session,
    now: datetime,
    *,
    text: str = "",
    show: str = "all",
    sort: str = "name",
    page: int = 1,
    size: int = PAGE_SIZE,
) -> RowsPage:
    """One page of the stations that match: the search (part of the name) and the filter
    are SQL, so only the page's stations are read in full."""
    where = f"strpos(s.station, :q) > 0 AND {_SHOW_WHERE.get(show, 'TRUE')}"
    params: dict[str, Any] = {"q": text.strip().lower()}
    total = int(
        session.execute(
            sa.text(f"SELECT count(*) FROM station_state s WHERE {where}"),  # noqa: S608
            params,
        ).scalar_one()
    )
    pages = max(1, -(-total // size))
    page = max(1, min(page, pages))
    sort = sort if sort in _ORDER else "name"
    counts = f" LEFT JOIN ({_COUNTS[sort]}) k ON k.station = s.station" if sort in _COUNTS else ""
    names = list(
        session.execute(
            sa.text(
                f"SELECT s.station FROM station_state s{counts} WHERE {where}"  # noqa: S608
                f" ORDER BY {_ORDER[sort]} LIMIT :n OFFSET :o"
            ),
            {**params, "n": size, "o": (page - 1) * size},
        ).scalars()
    )
    by_name = {r.name: r for r in station_rows(session, now, names=names)}
    return RowsPage([by_name[n] for n in names if n in by_name], total, page, pages)


@dataclass(frozen=True)
class MapDot:
    name: str
    latitude: float
    longitude: float
    online: bool
    attention: bool


def map_dots(session: Session) -> list[MapDot]:
    """Every station that has coordinates (``locker hub station place``), with its state."""
    rows = session.execute(
        sa.text(
            f"SELECT s.station, p.latitude, p.longitude, s.online, {_ATTENTION}"  # noqa: S608
            " FROM station_state s JOIN station_places p ON p.station = s.station"
            " WHERE p.latitude IS NOT NULL AND p.longitude IS NOT NULL ORDER BY s.station"
        )
    ).all()
    return [MapDot(n, float(la), float(lo), bool(on), bool(att)) for n, la, lo, on, att in rows]
