"""Cold groups in the layout: a group's kind and band, its compartments, and each kind of
mistake named by its line; the old ``cooled = true`` still loads (chilled, unwatched)."""

from __future__ import annotations

import pytest

from locker.cold.groups import Band
from locker.layout import LayoutError, parse_layout
from locker.types import ColdKind

BASE = """\
[[bus]]
id = "b"
port = "sim"
family = "modbus-relay"

[[board]]
address = 1
type = "modbus-relay-8"

[[compartment]]
id = 1
board = 1
lock = 1
size = "M"
"""

# the groups' thermometers: XY-MD02 sensors on the same Modbus bus (after the groups, so
# that the lines named below stay those of the groups and compartments)
SENSORS = """
[[sensor]]
id = "fridge"
address = 10
type = "xy-md02"

[[sensor]]
id = "chest"
address = 11
type = "xy-md02"
"""

FRIDGE = (
    """
[[cold_group]]
id = "fridge"
kind = "chilled"
sensor = "fridge"

[[cold_group]]
id = "freezer"
kind = "frozen"
sensor = "chest"
max_c = -20

[[compartment]]
id = 2
board = 1
lock = 2
size = "M"
cold_group = "fridge"

[[compartment]]
id = 3
board = 1
lock = 3
size = "S"
cold_group = "freezer"
"""
    + SENSORS
)


def problems_of(text: str) -> list[str]:
    with pytest.raises(LayoutError) as caught:
        parse_layout(text, source="s.toml")
    return caught.value.problems


def test_groups_give_their_compartments_a_kind_and_a_band() -> None:
    layout = parse_layout(BASE + FRIDGE)
    fridge, freezer = layout.cold_groups
    assert (fridge.kind, fridge.band, fridge.sensor) == (ColdKind.CHILLED, Band(2, 8), "fridge")
    assert (freezer.kind, freezer.band) == (ColdKind.FROZEN, Band(None, -20))
    assert layout.compartment(1).cold is None
    assert layout.compartment(2).cold is ColdKind.CHILLED
    assert layout.compartment(2).cold_group == "fridge"
    assert layout.compartment(3).cooled
    assert layout.cold_group("freezer") is freezer
    assert freezer.band.text() == "≤ -20 °C"
    assert fridge.band.text() == "2–8 °C"


def test_a_group_must_name_a_sensor_of_the_layout() -> None:
    text = (BASE + FRIDGE).replace('sensor = "chest"', 'sensor = "attic"')
    assert any(
        "cold group 'freezer' names sensor 'attic', which no [[sensor]] defines "
        "(defined: chest, fridge)" in problem
        for problem in problems_of(text)
    )


def test_the_old_cooled_key_reads_as_chilled_without_a_thermometer() -> None:
    layout = parse_layout(BASE.replace('size = "M"', 'size = "M"\ncooled = true'))
    spec = layout.compartment(1)
    assert (spec.cold, spec.cold_group) == (ColdKind.CHILLED, None)


GONE = "s.toml:39: unknown cold group 'freezer'"  # its compartment, once the group is refused


@pytest.mark.parametrize(
    ("change", "problems"),
    [
        (
            ('kind = "frozen"', 'kind = "icy"'),
            ["s.toml:23: kind 'icy' is not one of chilled, frozen", GONE],
        ),
        (
            ("max_c = -20", "min_c = 5\nmax_c = -20"),
            ["s.toml:26: max_c (-20) must be above min_c (5)", GONE.replace("39", "40")],
        ),
        (
            ('cold_group = "freezer"', 'cold_group = "cellar"'),
            ["s.toml:39: unknown cold group 'cellar'"],
        ),
        (
            ('cold_group = "freezer"', 'cold_group = "freezer"\ncooled = false'),
            ["s.toml:40: cooled = false contradicts its cold_group"],
        ),
        (('sensor = "chest"', "sensor = 7"), ["s.toml:24: 'sensor' must be str, not 7", GONE]),
        (
            ('id = "freezer"', 'id = "fridge"'),
            ["s.toml:22: cold group 'fridge' is defined twice", GONE],
        ),
    ],
)
def test_each_mistake_names_its_line(change: tuple[str, str], problems: list[str]) -> None:
    assert problems_of(BASE + FRIDGE.replace(*change)) == problems


def test_a_group_needs_its_kind_and_sensor() -> None:
    text = BASE + '\n[[cold_group]]\nid = "x"\n'
    assert problems_of(text) == [
        "s.toml:16: [cold_group] lacks 'kind'",
        "s.toml:16: [cold_group] lacks 'sensor'",
    ]
