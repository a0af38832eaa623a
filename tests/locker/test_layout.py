"""Layout files: the good ones load, each kind of bad one names its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from locker.layout import LayoutError, demo_layout, load_layout, parse_layout
from locker.types import SizeClass

GOOD = """\
[station]
name = "Corner shop"

[[bus]]
id = "left"
port = "/dev/ttyUSB0"

[[bus]]
id = "right"
port = "socket://10.0.0.7:5000"
baud = 9600

[[board]]
bus = "left"
address = 0

[[board]]
bus = "right"
address = 3
hook_polarity = "engaged_low"
ir_sensors = false
pulse_ms = 800

[[compartment]]
id = 1
bus = "left"
board = 0
lock = 1
size = "S"
accessible = true

[[compartment]]
id = 2
bus = "right"
board = 3
lock = 16
size = "XL"
width_mm = 500
height_mm = 700
depth_mm = 650
column = 2
row = 1
cooled = true
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(LayoutError) as caught:
        parse_layout(text, source="station.toml")
    return caught.value.problems


def test_good_layout_loads_with_defaults_and_overrides() -> None:
    layout = parse_layout(GOOD, source="station.toml")
    assert layout.name == "Corner shop"
    assert [b.id for b in layout.buses] == ["left", "right"]
    assert layout.buses[0].baud == 19200
    assert layout.buses[1].baud == 9600
    right = layout.board("right", 3)
    assert (right.hook_polarity, right.ir_sensors, right.pulse_ms) == ("engaged_low", False, 800)
    first, second = layout.compartments
    assert first.size is SizeClass.S
    assert first.accessible
    assert first.dimensions == (380, 90, 600)  # the class's default inner size
    assert second.dimensions == (500, 700, 650)
    assert second.cooled
    assert (second.column, second.row) == (2, 1)
    assert layout.compartment(second.id) is second
    assert first.line == 24


def test_demo_layout_has_two_full_cu16_boards_of_mixed_sizes() -> None:
    layout = demo_layout()
    assert len(layout.boards) == 2
    assert all(board.type == "cu16" for board in layout.boards)
    assert len(layout.compartments) == 32
    assert {spec.size for spec in layout.compartments} == set(SizeClass)
    assert any(spec.accessible for spec in layout.compartments)
    assert layout.buses[0].port == "sim"


def test_load_layout_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text(GOOD)
    assert load_layout(path).source == str(path)


def test_duplicate_compartment_id_names_its_line() -> None:
    text = GOOD.replace("id = 2\nbus", "id = 1\nbus")
    assert problems_of(text) == ["station.toml:33: compartment 1 is defined twice"]


def test_two_compartments_on_one_lock() -> None:
    text = GOOD.replace('bus = "right"\nboard = 3\nlock = 16', 'bus = "left"\nboard = 0\nlock = 1')
    text = text.replace("column = 2\nrow = 1\n", "")
    assert problems_of(text) == ["station.toml:36: lock 1 of board 0 already drives compartment 1"]


def test_unknown_board() -> None:
    text = GOOD.replace("board = 3\nlock = 16", "board = 4\nlock = 16")
    assert problems_of(text) == ["station.toml:35: unknown board 4 on bus 'right'"]


def test_unknown_bus_of_a_board() -> None:
    text = GOOD.replace('bus = "right"\naddress = 3', 'bus = "middle"\naddress = 3')
    problems = problems_of(text)
    assert problems[0] == "station.toml:18: unknown bus 'middle'"
    assert "station.toml:35: unknown board 3 on bus 'right'" in problems


def test_duplicate_board_address_on_a_bus() -> None:
    text = GOOD.replace('bus = "right"\naddress = 3', 'bus = "left"\naddress = 0')
    assert "station.toml:19: board 0 on bus 'left' is defined twice" in problems_of(text)


def test_unknown_key_is_a_typo_not_ignored() -> None:
    text = GOOD.replace("lock = 1\n", "lock = 1\nacessible = true\n", 1)
    assert problems_of(text) == [
        "station.toml:29: unknown key 'acessible' in [compartment] (known: id, bus, board, lock, "
        "size, width_mm, height_mm, depth_mm, column, row, accessible, cooled, cold_group, "
        "input_board, input)"
    ]


def test_wrong_value_type() -> None:
    assert problems_of(GOOD.replace("lock = 16", 'lock = "16"')) == [
        "station.toml:36: 'lock' must be int, not '16'"
    ]


def test_bool_is_not_a_number() -> None:
    assert problems_of(GOOD.replace("lock = 16", "lock = true")) == [
        "station.toml:36: 'lock' must be int, not True"
    ]


def test_bad_size_class() -> None:
    assert problems_of(GOOD.replace('size = "XL"', 'size = "XXL"')) == [
        "station.toml:37: size 'XXL' is not one of S, M, L, XL"
    ]


def test_bad_baud() -> None:
    assert problems_of(GOOD.replace("baud = 9600", "baud = 12345"))[0] == (
        "station.toml:11: baud 12345 is not one of (9600, 19200, 38400, 57600, 115200)"
    )


def test_bad_polarity_and_pulse() -> None:
    assert problems_of(GOOD.replace('"engaged_low"', '"sideways"')) == [
        "station.toml:20: hook_polarity must be one of ('engaged_high', 'engaged_low')",
        "station.toml:35: unknown board 3 on bus 'right'",
    ]
    assert problems_of(GOOD.replace("pulse_ms = 800", "pulse_ms = -1"))[0] == (
        "station.toml:22: pulse_ms must be within 0..655350"
    )


def test_missing_required_key_names_the_table_header() -> None:
    text = GOOD.replace('size = "S"\n', "")
    assert problems_of(text) == ["station.toml:24: [compartment] lacks 'size'"]


def test_two_compartments_in_one_place_of_the_front() -> None:
    text = GOOD.replace("row = 1\n", "row = 1\n").replace(
        "id = 1\nbus", "id = 1\ncolumn = 2\nrow = 1\nbus"
    )
    assert problems_of(text) == ["station.toml:44: column 2, row 1 is already compartment 1"]


def test_lock_numbers_start_at_one_and_ids_are_positive() -> None:
    problems = problems_of(GOOD.replace("lock = 16", "lock = 0").replace("id = 1\n", "id = -1\n"))
    assert "station.toml:25: compartment id must be a positive number" in problems
    assert "station.toml:36: lock numbers start at 1" in problems


def test_bus_must_be_named_when_there_are_several() -> None:
    text = GOOD.replace('id = 1\nbus = "left"\n', "id = 1\n")
    assert problems_of(text) == [
        "station.toml:24: [compartment] must name its 'bus' when there are 2 buses"
    ]


def test_single_bus_is_the_default() -> None:
    text = """
[[bus]]
id = "only"
port = "sim"
[[board]]
address = 1
[[compartment]]
id = 7
board = 1
lock = 2
size = "M"
"""
    layout = parse_layout(text)
    assert layout.compartments[0].bus == "only"
    assert layout.boards[0].bus == "only"


def test_not_toml_at_all() -> None:
    problems = problems_of("[[bus]\nid=")
    assert len(problems) == 1
    assert problems[0].startswith("station.toml: not valid TOML")


def test_empty_layout_and_unknown_table() -> None:
    assert problems_of('[[bus]]\nid = "a"\nport = "sim"\n') == [
        "station.toml: the layout has no [[compartment]]"
    ]
    assert problems_of(GOOD + "\n[[door]]\nid = 1\n") == [
        "station.toml:45: unknown table [door] "
        "(known: station, bus, board, compartment, sensor, cold_group)"
    ]


def test_table_written_as_single_table() -> None:
    text = '[[bus]]\nid = "a"\nport = "sim"\n[board]\naddress = 0\n'
    assert problems_of(text)[0] == (
        "station.toml:4: [board] must be an array of tables: write [[board]]"
    )


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace("lock = 16", "lock = 0").replace('size = "S"', 'size = "Q"')
    assert len(problems_of(text)) == 2
