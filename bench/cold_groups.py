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

And over the real parts (:func:`measure_on_modbus`): a station started as ``locker serve``
starts it (``running_station``) on the Modbus simulator's pty at 9,600 Bd, a relay board of
8 doors and the fridge's XY-MD02 on that bus, read by the real driver:

* the door watcher's loop tick with the fridge's read, beside the same tick without it
  (the same run's baseline);
* the fridge's read alone (one FC04 request and its answer), beside its wire floor.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from api.runtime import running_station
from bench.common import Row, against, byte_s, table, timed
from common.cold_chart import Point, cold_chart
from locker.cold.views import cold_views
from locker.cold.watch import ColdWatch
from locker.runtime.settings import Settings
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


MODBUS_BAUD = 9600
XY_MD02_READ_BYTES = 8 + 7  # FC04 request of one register, and its answer
MODBUS_LAYOUT = f"""\
[[bus]]
id = "relays"
port = "sim"
family = "modbus-relay"
baud = {MODBUS_BAUD}

[[board]]
address = 1
type = "modbus-relay-8"
pulse_ms = 100

[[sensor]]
id = "fridge-sensor"
address = 10
type = "xy-md02"

[[cold_group]]
id = "fridge"
kind = "chilled"
sensor = "fridge-sensor"
""" + "".join(
    f'\n[[compartment]]\nid = {n}\nboard = 1\nlock = {n}\nsize = "M"\n'
    + ('cold_group = "fridge"\n' if n > 6 else "")
    for n in range(1, 9)
)


def measure_on_modbus(*, runs: int = 100) -> list[Row]:
    """The loop's tick with and without the fridge's read, over the real driver."""
    with tempfile.TemporaryDirectory(prefix="bench-cold-modbus-") as tmp:
        folder = Path(tmp)
        (folder / "layout.toml").write_text(MODBUS_LAYOUT)
        settings = Settings(
            data_dir=folder / "var",
            layout=folder / "layout.toml",
            _env_file=None,
        )
        with running_station(settings) as runtime:
            station = runtime.station
            clock = FakeClock()
            station.clock = clock
            doors = DoorWatch(station)
            cold = ColdWatch(station, read_every=timedelta(seconds=30))
            thermometer = runtime.thermometers["fridge-sensor"]
            if thermometer.read_celsius() is None:
                raise SystemExit("the fridge's XY-MD02 did not answer on the simulator")

            def with_cold() -> None:
                clock.advance(seconds=30)  # a read is due at every tick
                if not cold.tick() and cold.due(clock.now):
                    raise SystemExit("the cold group was not read")
                doors.tick()

            without = timed(runs, doors.tick)
            loop = timed(runs, with_cold)
            alone = timed(runs, thermometer.read_celsius)
    conditions = f"modbus-relay, 8 doors + XY-MD02, {MODBUS_BAUD} Bd, {runs} ticks"
    return [
        against(
            "loop tick with the fridge's read (modbus-relay)",
            conditions,
            "the tick without it",
            sorted(without)[len(without) // 2],
            loop,
            "tick",
        ),
        against(
            "XY-MD02 read, real driver (modbus-relay)",
            f"FC04 one register, {MODBUS_BAUD} Bd, {runs} reads",
            "wire",
            XY_MD02_READ_BYTES * byte_s(MODBUS_BAUD),
            alone,
            "wire",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    started = time.monotonic()
    runs = parser.parse_args().runs
    rows = measure(runs=runs) + measure_on_modbus(runs=max(10, runs // 3))
    print(f"cold groups: {time.monotonic() - started:.0f} s")
    print(table(rows))


if __name__ == "__main__":
    main()
