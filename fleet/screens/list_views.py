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
# or is full (it reported its room, and none is free).
_ATTENTION = (
    "(NOT s.online OR EXISTS (SELECT 1 FROM alerts a WHERE a.station = s.station)"
    " OR EXISTS (SELECT 1 FROM compartments c WHERE c.station = s.station AND c.state = 'fault')"
    " OR (s.free <> '{}'::jsonb AND NOT EXISTS"
    " (SELECT 1 FROM jsonb_each_text(s.free) f WHERE f.value::int > 0)))"
)
_SHOW_WHERE = {
    "all": "TRUE",
    "attention": _ATTENTION,
    "offline": "NOT s.online",
    "alerts": "EXISTS (SELECT 1 FROM alerts a WHERE a.station = s.station)",
}
_ORDER = {
    "name": "s.station",
    "alerts": "(SELECT count(*) FROM alerts a WHERE a.station = s.station) DESC, s.station",
    "waiting": "(SELECT count(*) FROM parcels p WHERE p.station = s.station"
    " AND p.state = 'stored') DESC, s.station",
    "free": "(SELECT coalesce(sum(f.value::int), 0) FROM jsonb_each_text(s.free) f) DESC,"
    " s.station",
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


def fleet_summary(session: Session) -> FleetSummary:
    stations, online, attention = session.execute(
        sa.text(
            "SELECT count(*), count(*) FILTER (WHERE s.online),"  # noqa: S608
            f" count(*) FILTER (WHERE {_ATTENTION}) FROM station_state s"
        )
    ).one()
    alerts = session.execute(sa.text("SELECT count(*) FROM alerts")).scalar_one()
    waiting = session.execute(
        sa.text("SELECT count(*) FROM parcels WHERE state = 'stored'")
    ).scalar_one()
    free = dict(
        session.execute(
            sa.text(
                "SELECT f.key, sum(f.value::int) FROM station_state s,"
                " jsonb_each_text(s.free) f GROUP BY f.key"
            )
        ).all()
    )
    return FleetSummary(
        stations=int(stations),
        online=int(online),
        attention=int(attention),
        alerts=int(alerts),
        waiting=int(waiting),
        free={size: int(free[size]) for size in SIZES if size in free},
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
    names = list(
        session.execute(
            sa.text(
                f"SELECT s.station FROM station_state s WHERE {where}"  # noqa: S608
                f" ORDER BY {_ORDER.get(sort, _ORDER['name'])} LIMIT :n OFFSET :o"
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
