"""What the cooled compartments cost the door watcher's loop and the maintenance screen.

Run: ``.venv/bin/python -m bench.cold_groups [--runs N]``. On a station of two cold groups
(a fridge and a freezer, settable thermometers, a real SQLite file):

* one read of the cold groups (both thermometers read, each reading counted into its
  minute row, the status decided, in one write transaction), beside the door watcher's
  own tick on the same station (one read of every door and the check of what it means)
  as the same-run baseline: what the cold groups add to a round of the loop, every
  ``LOCKER_COLD_READ_S``;
* the maintenance screen's cold panel with a full day of readings (1,440 minutes per
  group, each drawn into its inline SVG chart), beside the front's own query
  (every compartment's state) as the baseline.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.common import Row, against, table, timed
from common.cold_chart import Point, cold_chart
from locker.cold.views import cold_views
from locker.cold.watch import ColdWatch
from locker.services.watch import DoorWatch
from locker.store import queries
from tests.cold_support import ColdStation
from tests.support import FakeClock


def measure(*, runs: int = 300) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        clock = FakeClock()
        cold = ColdStation(Path(tmp), clock)
        try:
            return _measure(cold, clock, runs)
        finally:
            cold.close()


def _measure(cold: ColdStation, clock: FakeClock, runs: int) -> list[Row]:
    station = cold.station
    watch = ColdWatch(station, read_every=timedelta(seconds=30))
    doors = DoorWatch(station)

    def read_groups() -> None:
        clock.advance(seconds=30)
        cold.fridge.set(4.0 + (clock.now.minute % 5))
        watch.tick()

    door_ticks = timed(runs, doors.tick)
    cold_ticks = timed(runs, read_groups)
    for _ in range(24 * 60 - runs // 2):  # the rest of a day, a read a minute
        clock.advance(minutes=1)
        watch.tick()

    def panel() -> None:
        with station.db.read() as session:
            views = cold_views(session, station.layout, clock.now)
        for view in views:
            band = (view.group.min_c, view.group.max_c)
            points = [Point(m.at, m.mean_c) for m in view.day]
            cold_chart(points, now=clock.now, band=band, label=view.group.id)

    def front() -> None:
        with station.db.read() as session:
            queries.compartments(session, station.layout)

    front_s = timed(runs // 3, front)
    panel_s = timed(runs // 3, panel)
    groups = len(station.layout.cold_groups)
    return [
        against(
            "cold groups: one read of every thermometer",
            f"{groups} groups, SQLite file, {runs} reads",
            "door watcher's tick",
            sorted(door_ticks)[len(door_ticks) // 2],
            cold_ticks,
            "door tick",
        ),
        against(
            "cold groups: maintenance panel, a day's charts",
            f"{groups} groups × 1,440 minutes, inline SVG",
            "the front's query",
            sorted(front_s)[len(front_s) // 2],
            panel_s,
            "front query",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    started = time.monotonic()
    rows = measure(runs=parser.parse_args().runs)
    print(f"cold groups: {time.monotonic() - started:.0f} s")
    print(table(rows))


if __name__ == "__main__":
    main()
