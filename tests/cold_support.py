"""A small station with cooled compartments for the cold groups' tests: two ambient
compartments, a chilled group "fridge" (2..8 °C, two compartments) and a frozen group
"freezer" (-18 °C or colder, one), each group with a thermometer the test sets. The
layout's thermometers are XY-MD02 sensors on a Modbus bus of their own (the layout wants a
[[sensor]] for each group's), which the domain tests replace by settable ones."""

from __future__ import annotations

from pathlib import Path

from locker.cold.watch import ColdWatch
from locker.layout import Layout, parse_layout
from locker.station import Station
from locker.store.db import Database
from locker.testkit.memory_locks import InMemoryLocks
from locker.testkit.thermometers import SettableThermometer
from locker.types import ColdKind
from tests.support import FakeClock, fresh_database, make_station, migrated_template

COLD_LAYOUT = """\
[station]
name = "Corner grocer"

[[bus]]
id = "main"
port = "sim"

[[bus]]
id = "cold"
port = "sim"
family = "modbus-relay"

[[sensor]]
id = "fridge-sensor"
bus = "cold"
address = 10
type = "xy-md02"

[[sensor]]
id = "freezer-sensor"
bus = "cold"
address = 11
type = "xy-md02"

[[board]]
bus = "main"
address = 0

[[cold_group]]
id = "fridge"
kind = "chilled"
sensor = "fridge-sensor"

[[cold_group]]
id = "freezer"
kind = "frozen"
sensor = "freezer-sensor"
"""
COMPARTMENTS = [
    (1, "M", None, 1, 1),
    (2, "L", None, 1, 2),
    (3, "M", "fridge", 2, 1),
    (4, "M", "fridge", 2, 2),
    (5, "M", "freezer", 3, 1),
]


def cold_layout() -> Layout:
    text = COLD_LAYOUT
    for cid, size, group, column, row in COMPARTMENTS:
        text += (
            f'\n[[compartment]]\nid = {cid}\nbus = "main"\nboard = 0\nlock = {cid}\n'
            f'size = "{size}"\ncolumn = {column}\nrow = {row}\n'
        )
        if group:
            text += f'cold_group = "{group}"\n'
    return parse_layout(text, source="cold.toml")


class ColdStation:
    """The station, its doors and its two thermometers (fridge 5 °C, freezer -20 °C)."""

    def __init__(self, folder: Path, clock: FakeClock) -> None:
        self.layout = cold_layout()
        self.db: Database = fresh_database(migrated_template(), folder)
        self.locks = InMemoryLocks([c.id for c in self.layout.compartments])
        self.fridge = SettableThermometer(5.0)
        self.freezer = SettableThermometer(-20.0)
        self.clock = clock
        self.station: Station = make_station(self.db, self.layout, self.locks, clock)
        self.station.thermometers = {"fridge-sensor": self.fridge, "freezer-sensor": self.freezer}

    def close(self) -> None:
        self.db.close()


def live_cold_layout() -> str:
    """A served station's layout (tests/api/live.py): one CU16 board on the simulator,
    three ambient compartments and a chilled group of two."""
    text = COLD_LAYOUT.replace(
        '[[board]]\nbus = "main"\naddress = 0\n',
        '[[board]]\nbus = "main"\naddress = 0\npulse_ms = 40\n',
    )
    text = text.replace(
        '\n[[cold_group]]\nid = "freezer"\nkind = "frozen"\nsensor = "freezer-sensor"\n', ""
    )
    text = text.replace(
        '\n[[sensor]]\nid = "freezer-sensor"\nbus = "cold"\naddress = 11\ntype = "xy-md02"\n', ""
    )
    for cid, size, group, column, row in [
        (1, "S", None, 1, 1),
        (2, "M", None, 1, 2),
        (3, "L", None, 1, 3),
        (4, "M", "fridge", 2, 1),
        (5, "M", "fridge", 2, 2),
    ]:
        text += (
            f'\n[[compartment]]\nid = {cid}\nbus = "main"\nboard = 0\nlock = {cid}\n'
            f'size = "{size}"\ncolumn = {column}\nrow = {row}\n'
        )
        if group:
            text += f'cold_group = "{group}"\n'
    return text


def cold_groups_in_band(station: Station) -> None:
    """Give a layout's cold groups (the demo's fridge) settable thermometers in their band
    and read them once, so that they take parcels (for tests about something else)."""
    inside = {ColdKind.CHILLED: 5.0, ColdKind.FROZEN: -20.0}
    groups = station.layout.cold_groups
    if groups:
        station.thermometers = {g.sensor: SettableThermometer(inside[g.kind]) for g in groups}
        ColdWatch(station).tick()
