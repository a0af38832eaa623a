"""The stations list at scale (issue 26) is SQL: its summary, filters, search, sorts and
pages must say what every station's row says as Python reads it
(:func:`fleet.screens.views.station_rows`), here on the varied fleet of the list's bench
(bench/fleet_list_data.py: offline, full, faulty, alerts, parcels waiting and to pay)."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.fleet_list_data import populate
from fleet.db import HubDatabase
from fleet.screens import list_views, views

STATIONS = 120


def test_the_lists_sql_says_what_every_stations_row_says(hub_db: HubDatabase) -> None:
    now = datetime.now(UTC)
    populate(hub_db, STATIONS, now)
    with hub_db.transaction() as session:
        every = views.station_rows(session, now)
        # a fleet with some of everything, so that each filter and sort has work
        assert len({r.waiting for r in every}) == 7  # 3 to 9 parcels waiting
        assert {r.alerts for r in every} == {0, 1, 2}
        assert all(any(getattr(r, flag) for r in every) for flag in ("full", "faults"))
        summary = list_views.fleet_summary(session)
        assert summary.stations == STATIONS
        assert summary.online == sum(r.online for r in every)
        assert summary.attention == sum(r.needs_attention for r in every) > 0
        assert summary.alerts == sum(r.alerts for r in every)
        assert summary.waiting == sum(r.waiting for r in every)
        assert summary.free == {
            size: sum(r.free.get(size, 0) for r in every)
            for size in views.SIZES
            if any(size in r.free for r in every)
        }
        for show in views.SHOWS:
            for sort in views.SORTS:
                for text in ("", "h001"):  # everyone, or h00100 to h00119
                    want = views.station_rows(session, now, text=text, show=show, sort=sort)
                    got = list_views.rows_page(session, now, text=text, show=show, sort=sort)
                    assert got.total == len(want), (show, sort, text)
                    assert got.rows == want[: list_views.PAGE_SIZE], (show, sort, text)
        # in pages of 50, the pages are the whole list in its order
        pages = [list_views.rows_page(session, now, sort="free", page=k) for k in (1, 2, 3)]
        assert [p.pages for p in pages] == [3, 3, 3]
        assert [r for p in pages for r in p.rows] == views.station_rows(session, now, sort="free")
