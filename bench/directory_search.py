"""The courier's search in the directory, over 5,000 and 50,000 made-up people.

Run: ``.venv/bin/python -m bench.directory_search [--queries N] [--size N ...]``. Each
query is a person's name as a courier may type it (umlauts spelt out, one typo, words
swapped, case lost; bench/people.py). The tolerant search
(locker.people.directory_search.search, as ``GET /api/v1/directory/search`` runs it)
stands beside a plain indexed lookup in the same run: the flat number on its indexed
column (``WHERE unit = ?``, ix_recipient_unit), each in its own read transaction on the
same SQLite file, so the ratio is what the tolerance costs over an exact lookup. Also
measured: rebuilding the search's index after a change (the first search then), and how
often the person was within the first three offered.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from bench.common import Row, ms, p50, p99, table
from bench.people import people, queries
from locker.codes import CodeHasher
from locker.layout import demo_layout
from locker.people import directory_search
from locker.station import Policy, Station, sync_layout
from locker.store.db import Database
from locker.store.tables import Recipient
from locker.testkit.memory_locks import InMemoryLocks


def _station(folder: Path) -> Station:
    db = Database(folder / "station.db")
    db.upgrade()
    layout = demo_layout()
    station = Station(
        layout=layout,
        db=db,
        locks=InMemoryLocks([c.id for c in layout.compartments]),
        hasher=CodeHasher(b"b" * 32),
        policy=Policy(),
        clock=lambda: datetime.now(UTC),
    )
    sync_layout(station)
    return station


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(size: int, *, runs: int = 500, rebuilds: int = 5) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix=f"bench-directory-{size}-") as tmp:
        station = _station(Path(tmp))
        try:
            return _measure(station, size, runs, rebuilds)
        finally:
            station.db.close()


def _measure(station: Station, size: int, runs: int, rebuilds: int) -> list[Row]:
    crowd = people(size)
    now = datetime.now(UTC)
    with station.db.write() as session:
        session.add_all(
            Recipient(
                name=p.name, unit=p.unit, email=p.email, language=p.language, created_at=now,
                updated_at=now,
            )
            for p in crowd
        )  # fmt: skip
    rebuilt = []
    for _ in range(rebuilds):
        directory_search.changed()
        rebuilt.append(_timed(lambda: directory_search.search(station, "Anna Müller")))
    asked = list(itertools.islice(queries(crowd), runs))
    found_in_three = 0
    searched = []
    for person, text in asked:
        start = time.perf_counter()
        offered = directory_search.search(station, text)
        searched.append(time.perf_counter() - start)
        found_in_three += person.name in [m.name for m in offered[:3]]

    def lookup(unit: str) -> None:
        with station.db.read() as session:
            rows = session.exec(
                select(Recipient.id, Recipient.name, Recipient.unit).where(Recipient.unit == unit)
            ).all()
        assert rows

    looked = [_timed(lambda u=person.unit: lookup(u)) for person, _ in asked]  # type: ignore[misc]
    base = p50(looked)
    people_n = f"{size:,} people"
    reference = f"indexed lookup `WHERE unit = ?` p50 {ms(base)}, p99 {ms(p99(looked))}"
    return [
        Row(
            f"courier's search, {people_n}",
            f"{runs} misspelt names (umlauts in ASCII, a typo, words swapped); the person "
            f"within the first three: {found_in_three}/{runs}",
            reference,
            ms(p50(searched)),
            ms(p99(searched)),
            f"{p50(searched) / base:.1f}× lookup",
        ),
        Row(
            f"search index rebuilt after a change, {people_n}",
            f"the first search after a change, {rebuilds} times",
            reference,
            ms(p50(rebuilt)),
            ms(p99(rebuilt)),
            f"{p50(rebuilt) / base:.0f}× lookup",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--size", type=int, action="append")
    args = parser.parse_args()
    rows: list[Row] = []
    for size in args.size or [5000, 50_000]:
        rows += measure(size, runs=args.queries)
    print(table(rows))


if __name__ == "__main__":
    main()
