"""The fleet of the stations-list bench (:mod:`bench.fleet_list`): ``N`` registered stations
written straight into the hub's tables, set-based (``generate_series``), with the state a
busy fleet has, so that the list's summary, filter and page all have work.

Station ``n`` (``h00000`` …):

- **online** but every 20th (offline, with its "offline" alert and when it dropped);
  last seen within the last ten minutes; every 50th a little behind in its events;
- **room**: ``{"S", "M", "L"}`` free counts; every 13th full (all zero);
- **24 compartments** (8 S, 10 M, 6 L); every 97th station has one at fault;
- **6 to 12 live parcels** (one expired, one reserved, one announced, 3 to 9 stored),
  deadlines over the next days (some today), every 8th parcel with an amount due, every
  other of those paid;
- **alerts**: every 33rd station a "door_left_open" besides the offline ones;
- **10 events** each (parcel events, and a "paid" event today for every 4th station), for
  the day's payments the rows read.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from fleet.db import HubDatabase

COMPARTMENTS = 24
PARCELS = 12  # at most, a station
EVENTS = 10

_NAME = "'h' || lpad(n::text, 5, '0')"

_STATEMENTS = (
    f"INSERT INTO stations (name, created_at, command_key, broker_password_hash)"  # noqa: S608
    f" SELECT {_NAME}, :now, md5(n::text) || md5(n::text), 'x'"
    " FROM generate_series(0, :n - 1) n",
    f"INSERT INTO station_state (station, online, last_seen, offline_since, boot,"  # noqa: S608
    " contiguous_seq, station_last_seq, free, accessible_free, cold_free, bus)"
    f" SELECT {_NAME}, n % 20 <> 0, :now - make_interval(secs => (n * 37) % 600),"
    " CASE WHEN n % 20 = 0 THEN :now - make_interval(mins => 5 + n % 120) END, 'boot',"
    " 1000 + n % 500, 1000 + n % 500 + CASE WHEN n % 50 = 0 THEN 7 ELSE 0 END,"
    ' CASE WHEN n % 13 = 0 THEN \'{"S": 0, "M": 0, "L": 0}\'::jsonb'
    " ELSE jsonb_build_object('S', n % 5, 'M', 1 + n % 7, 'L', n % 3) END,"
    " '{\"M\": 1}'::jsonb, '{}'::jsonb,"
    " jsonb_build_object('main', jsonb_build_object('timeouts', n % 4,"
    " 'checksum_errors', n % 2, 'bad_frames', 0, 'port_errors', 0))"
    " FROM generate_series(0, :n - 1) n",
    f"INSERT INTO compartments (station, compartment_id, size, state)"  # noqa: S608
    f" SELECT {_NAME}, c, CASE WHEN c <= 8 THEN 'S' WHEN c <= 18 THEN 'M' ELSE 'L' END,"
    " CASE WHEN n % 97 = 0 AND c = 1 THEN 'fault' ELSE 'free' END"
    f" FROM generate_series(0, :n - 1) n, generate_series(1, {COMPARTMENTS}) c",
    "INSERT INTO parcels (station, parcel_id, tracking_number, carrier, state, size,"  # noqa: S608
    " compartment_id, deadline, accessible, amount_due, paid_at)"
    f" SELECT {_NAME}, p, 'T' || n || '-' || p, 'InPost',"
    " CASE p WHEN 1 THEN 'expired' WHEN 2 THEN 'reserved' WHEN 3 THEN 'announced'"
    " ELSE 'stored' END,"
    " CASE WHEN p % 3 = 0 THEN 'S' WHEN p % 3 = 1 THEN 'M' ELSE 'L' END,"
    " CASE WHEN p <> 3 THEN p END,"
    " :now + make_interval(hours => (n + p * 11) % 96 - 6), false,"
    " CASE WHEN (n + p) % 8 = 0 THEN 250 ELSE 0 END,"
    " CASE WHEN (n + p) % 16 = 0 THEN :now END"
    f" FROM generate_series(0, :n - 1) n, generate_series(1, {PARCELS}) p"
    " WHERE p <= 6 + n % 7",
    "INSERT INTO alerts (station, kind, compartment_id, detail, raised_at)"  # noqa: S608
    f" SELECT {_NAME}, 'offline', NULL, '', :now FROM generate_series(0, :n - 1) n"
    " WHERE n % 20 = 0"
    f" UNION ALL SELECT {_NAME}, 'door_left_open', 3, '', :now"
    " FROM generate_series(0, :n - 1) n WHERE n % 33 = 0",
    "INSERT INTO events (station, seq, event_id, type, data, at, received_at)"  # noqa: S608
    f" SELECT {_NAME}, e, md5(n || '-' || e),"
    " CASE WHEN e = 1 AND n % 4 = 0 THEN 'paid' ELSE 'parcel' END,"
    " CASE WHEN e = 1 AND n % 4 = 0"
    ' THEN \'{"method": "card", "amount_cents": 250}\'::jsonb'
    " ELSE jsonb_build_object('id', e, 'state', 'stored') END,"
    " :now - make_interval(mins => e), :now - make_interval(mins => e)"
    f" FROM generate_series(0, :n - 1) n, generate_series(1, {EVENTS}) e",
)


def populate(db: HubDatabase, stations: int, now: datetime | None = None) -> None:
    """``stations`` stations and what they hold (see the module), then ``ANALYZE``."""
    params = {"n": stations, "now": now or datetime.now(UTC)}
    with db.engine.begin() as conn:
        for statement in _STATEMENTS:
            conn.execute(sa.text(statement), params)
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))


def table_rows(db: HubDatabase) -> dict[str, int]:
    """The rows of the tables the list reads."""
    tables = ("stations", "station_state", "compartments", "parcels", "alerts", "events")
    with db.engine.connect() as conn:
        return {
            t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one())  # noqa: S608
            for t in tables
        }
