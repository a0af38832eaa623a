"""The operators' stations list with thousands of stations (issue 26): the list page and its
live update, beside a bare read of the stations table in the same run.

Run: ``.venv/bin/python -m bench.fleet_list [--stations 10000] [--runs 200]``.

A real PostgreSQL (a fresh cluster, as the other fleet benches start it) holds the hub's
schema (every migration) and ``N`` registered stations with a busy fleet's state
(:mod:`bench.fleet_list_data`: online and offline, alerts, full ones, faults, compartments,
parcels, the day's payments). The hub's app (``fleet.app.create_app``) is served by uvicorn
on a loopback port, in a thread of this process (``api.threaded.served``, as the tests' live
hub); the client is an ``httpx.Client`` over real HTTP, signed in as an operator through the
screen's own form (its cookies). Each request is timed from sending it to the whole answer
read, ``runs`` rounds of one of each (after a few unmeasured rounds), so that every
figure meets the shared machine's load at the same moments as the baseline:

- **list page**: ``GET /fleet/`` (the summary and the first page of 50);
- **filter**: ``GET /fleet/?show=attention`` ("needs attention": every station judged);
- **search + filter**: ``GET /fleet/?q=…&show=attention``;
- **poll, changed**: ``GET /fleet/rows`` with a stale ``If-None-Match``: 200, the list's part;
- **poll, unchanged**: the same with the version the page has: 304 (a minute rolling over
  changes the version, "online for 3 min": such an answer is not counted, the poll goes on
  with the new version);
- **bare read** (the baseline): ``SELECT * FROM stations``, every row fetched, on a
  connection of the hub's own pool, no HTTP.
"""

from __future__ import annotations

import argparse
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa

from api.threaded import served
from bench.common import Row, against, p50, table
from bench.fleet_list_data import populate, table_rows
from fleet import accounts
from fleet.app import create_app
from fleet.db import HubDatabase
from fleet.engines import Postgres
from fleet.screens.views import station_rows
from fleet.settings import HubSettings

OPERATOR = "bench"
PASSWORD = "a bench operator's password"  # noqa: S105
WARM_UP = 5  # unmeasured rounds first (fewer for a brief run)


@dataclass
class Timings:
    stations: int
    rows: dict[str, int]  # the tables' rows
    setup_s: float
    page: list[float]
    filtered: list[float]
    searched: list[float]
    poll_changed: list[float]
    poll_same: list[float]
    bare: list[float]
    search: str  # the search text
    attention: int  # stations that need attention (the filter's total)
    attention_rows: int  # the same, counted from every station's row (StationRow)
    rollovers: int  # 200s during the unchanged polls (a minute rolled over)


@contextmanager
def _database(server: Postgres | None) -> Iterator[HubDatabase]:
    """A new database on ``server`` (or on a cluster of its own), at the newest schema."""
    own = server is None
    pg = Postgres.create() if server is None else server
    if own:
        pg.start()
    name = f"bench_list_{uuid.uuid4().hex[:8]}"
    db = HubDatabase(pg.create_database(name))
    try:
        db.upgrade()
        yield db
    finally:
        db.close()
        if own:
            pg.remove()
        else:
            pg.drop_database(name)


@contextmanager
def _signed_in(base_url: str) -> Iterator[httpx.Client]:
    """A client signed in as the operator through the screen's form (its cookies)."""
    with httpx.Client(base_url=base_url, timeout=60) as http:
        found = re.search(r'name="form_token" value="([^"]+)"', http.get("/fleet/").text)
        assert found is not None, "no sign-in form"
        answer = http.post(
            "/fleet/sign-in",
            data={"name": OPERATOR, "password": PASSWORD, "form_token": found.group(1)},
        )
        assert answer.status_code == 303, answer.text
        yield http


def _get(http: httpx.Client, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    answer = http.get(url, headers=headers)
    assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
    return answer


def _total(html: str) -> int:
    found = re.search(r'id="page-of">[^<]*\((\d+) stations\)', html)
    assert found is not None, "no pager on the page"
    return int(found.group(1))


class _UnchangedPoll:
    """The live update with the version the page has: a 304, timed; a 200 (a minute rolled
    over) is not counted: its version is taken and the poll asked again."""

    def __init__(self, http: httpx.Client, url: str) -> None:
        self.http = http
        self.url = url
        self.etag = _get(http, url).headers["etag"]
        self.rollovers = 0

    def __call__(self) -> float:
        while True:
            start = time.monotonic()
            answer = self.http.get(self.url, headers={"If-None-Match": self.etag})
            took = time.monotonic() - start
            if answer.status_code == 304:
                return took
            assert answer.status_code == 200, answer.text[:300]
            self.etag = answer.headers["etag"]
            self.rollovers += 1


def _took(action: Callable[[], object]) -> Callable[[], float]:
    def timed_once() -> float:
        start = time.monotonic()
        action()
        return time.monotonic() - start

    return timed_once


def _rounds(actions: dict[str, Callable[[], float]], runs: int) -> dict[str, list[float]]:
    """Each action once a round, ``runs`` rounds: every figure meets the shared machine's
    load in the same moments as its baseline."""
    samples: dict[str, list[float]] = {key: [] for key in actions}
    for _ in range(runs):
        for key, action in actions.items():
            samples[key].append(action())
    return samples


def run(stations: int, runs: int, server: Postgres | None = None) -> Timings:
    """The list at ``stations`` stations, each figure ``runs`` times; on ``server`` (a new
    database there, dropped afterwards) or on a PostgreSQL cluster of its own."""
    began = time.monotonic()
    with _database(server) as db:
        now = datetime.now(UTC)
        populate(db, stations, now)
        accounts.add_operator(db, OPERATOR, PASSWORD, "operator", now)
        rows = table_rows(db)
        with db.transaction() as session:  # what the filter must agree with
            attention_rows = sum(r.needs_attention for r in station_rows(session, now))
        app = create_app(db, HubSettings(_env_file=None), lambda _command: None)
        search = "h000" if stations > 1000 else "h0000"  # a tenth of the fleet, or of 1,000
        bare_read = sa.text("SELECT * FROM stations")
        with (
            served(app) as base_url,
            _signed_in(base_url) as http,
            db.engine.connect() as conn,
        ):
            setup_s = time.monotonic() - began
            poll = "/fleet/rows?q=&show=all&sort=name&page=1"
            filtered = "/fleet/?show=attention"
            attention = _total(_get(http, filtered).text)
            assert _total(_get(http, "/fleet/").text) == stations
            assert len(conn.execute(bare_read).all()) == stations
            unchanged = _UnchangedPoll(http, poll)
            actions: dict[str, Callable[[], float]] = {
                "page": _took(lambda: _get(http, "/fleet/")),
                "filtered": _took(lambda: _get(http, filtered)),
                "searched": _took(lambda: _get(http, f"/fleet/?q={search}&show=attention")),
                "changed": _took(lambda: _get(http, poll, {"If-None-Match": '"stale"'})),
                "unchanged": unchanged,
                "bare": _took(lambda: conn.execute(bare_read).all()),
            }
            _rounds(actions, max(1, min(WARM_UP, runs // 10)))  # not measured
            unchanged.rollovers = 0
            measured = _rounds(actions, runs)
    return Timings(
        stations,
        rows,
        setup_s,
        measured["page"],
        measured["filtered"],
        measured["searched"],
        measured["changed"],
        measured["unchanged"],
        measured["bare"],
        search,
        attention,
        attention_rows,
        unchanged.rollovers,
    )


def rows_of(t: Timings) -> list[Row]:
    n = f"{t.stations:,}"
    held = ", ".join(f"{k} {v:,}" for k, v in t.rows.items() if k != "stations")
    where = f"{len(t.page)} rounds of one each, real HTTP (uvicorn, loopback), signed in; {held}"
    reference = t.bare

    def row(measurement: str, samples: list[float], detail: str = "") -> Row:
        conditions = where + (f"; {detail}" if detail else "")
        return against(
            f"stations list, N={n}: {measurement}",
            conditions,
            "bare read",
            p50(reference),
            samples,
            "bare read",
        )

    return [
        row("list page GET /fleet/", t.page, "the summary and the first page of 50"),
        row(
            "filter 'needs attention'",
            t.filtered,
            f"{t.attention:,} stations need attention ({t.attention_rows:,} by their rows)",
        ),
        row("search + filter", t.searched, f"q={t.search}"),
        row("live update, changed (200)", t.poll_changed, "GET /fleet/rows, a stale ETag"),
        row(
            "live update, unchanged (304)",
            t.poll_same,
            f"GET /fleet/rows, the page's ETag ({t.rollovers} minute roll-over(s) not counted)",
        ),
        row("bare read SELECT * FROM stations", t.bare, "every row fetched, no HTTP"),
    ]


def measure(stations: int, runs: int, server: Postgres | None = None) -> list[Row]:
    return rows_of(run(stations, runs, server))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    timings = run(args.stations, args.runs)
    print(f"{args.stations:,} stations set up and signed in, {timings.setup_s:.0f} s")
    print(table(rows_of(timings)))


if __name__ == "__main__":
    main()
