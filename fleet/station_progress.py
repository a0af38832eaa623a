"""How far the hub has each station, for a batch of ingest: its ``station_state`` row
without the ORM (a batch touches hundreds of stations; an ORM object each, loaded and
flushed, would cost more than their events).

:func:`lock` reads and locks the rows of the stations named, in the order of their names
(two batches that name the same stations take their locks in one order: they wait for each
other, never deadlock); :func:`write` puts back what changed with one statement. Between
them a :class:`Progress` is the station's row: the event path and the gap's bookkeeping
(:meth:`fleet.ingest.Ingest._resend`) change it in memory. :func:`to_row` and
:func:`from_row` hand a station over to the ORM and back, for the messages that go through
:mod:`fleet.ingest` one by one (a birth, a snapshot, an answer).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from fleet.sql_rows import rows_json
from fleet.tables import StationState

_GAPS = (
    "contiguous_seq",
    "station_last_seq",
    "gap_from",
    "gap_seen_at",
    "resend_from",
    "resend_asked_at",
)
_LOCK = sa.text(
    "SELECT station, last_seen, contiguous_seq, station_last_seq, gap_from, gap_seen_at,"
    " resend_from, resend_asked_at FROM station_state"
    " WHERE station = ANY(CAST(:s AS text[])) ORDER BY station FOR UPDATE"
)
_WRITE = sa.text(
    "UPDATE station_state AS x SET last_seen = u.ls, contiguous_seq = u.c,"
    " station_last_seq = u.l, gap_from = u.gf, gap_seen_at = u.gs, resend_from = u.rf,"
    " resend_asked_at = u.ra, free = COALESCE(u.fr, x.free),"
    " accessible_free = COALESCE(u.af, x.accessible_free),"
    " cold_free = COALESCE(u.cf, x.cold_free), bus = COALESCE(u.b, x.bus)"
    " FROM json_to_recordset(CAST(:rows AS json)) AS u(s text, ls timestamptz, c bigint,"
    " l bigint, gf bigint, gs timestamptz, rf bigint, ra timestamptz, fr jsonb, af jsonb,"
    " cf jsonb, b jsonb) WHERE x.station = u.s"
)


@dataclass
class Progress:
    """One station's ``station_state`` as far as ingest changes it in a batch."""

    station: str
    last_seen: datetime | None
    contiguous_seq: int
    station_last_seq: int
    gap_from: int | None
    gap_seen_at: datetime | None
    resend_from: int | None
    resend_asked_at: datetime | None
    free: dict[str, Any] | None = None  # None: as it is in the row
    accessible_free: dict[str, Any] | None = None
    cold_free: dict[str, Any] | None = None  # {"chilled": {size: count}, …}
    bus: dict[str, Any] | None = None


def lock(session: Session, names: Iterable[str]) -> dict[str, Progress]:
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = session.execute(_LOCK, {"s": wanted}).all()
    return {row.station: Progress(**row._asdict()) for row in rows}


def write(session: Session, stations: Iterable[Progress]) -> None:
    """Put back the rows of ``stations`` (one statement)."""
    rows = list(stations)
    if not rows:
        return

    session.execute(
        _WRITE,
        {
            "rows": rows_json(
                {
                    "s": p.station,
                    "ls": p.last_seen,
                    "c": p.contiguous_seq,
                    "l": p.station_last_seq,
                    "gf": p.gap_from,
                    "gs": p.gap_seen_at,
                    "rf": p.resend_from,
                    "ra": p.resend_asked_at,
                    "fr": p.free,
                    "af": p.accessible_free,
                    "cf": p.cold_free,
                    "b": p.bus,
                }
                for p in rows
            )
        },
    )
    for p in rows:
        p.free = p.accessible_free = p.cold_free = p.bus = None  # written: as the row has them now


def to_row(session: Session, progress: Progress) -> StationState:
    """The station's ORM row, as the batch has it so far (written first)."""
    write(session, [progress])
    return session.get_one(StationState, progress.station, populate_existing=True)


def from_row(progress: Progress, row: StationState) -> None:
    """Take back what the one-by-one path changed in the ORM row (flushed by then)."""
    progress.last_seen = row.last_seen
    for name in _GAPS:
        setattr(progress, name, getattr(row, name))
