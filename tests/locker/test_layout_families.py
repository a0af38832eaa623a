"""Layout keys of the board families: a family per bus, channels, door inputs, sensors."""

from __future__ import annotations

import pytest

from drivers.registry import check_layout
from locker.layout import LayoutError, load_layout, parse_layout
from locker.layouts import EXAMPLES, example_path
from locker.layouts.hardware import SensorSpec

HEAD = '[[bus]]\nid = "cold"\nport = "sim"\nfamily = "modbus-relay"\n'


def problems(text: str) -> list[str]:
    with pytest.raises(LayoutError) as caught:
        check_layout(parse_layout(text, source="s.toml"))
    return caught.value.problems


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_layout_is_valid(name: str) -> None:
    layout = load_layout(example_path(name))
    check_layout(layout)
    assert layout.compartments


def test_a_bus_gets_its_familys_baud_and_default_board_type() -> None:
    layout = parse_layout(
        HEAD + "[[board]]\naddress = 1\n[[compartment]]\nid = 1\nboard = 1\nlock = 1\nsize = 'S'\n"
    )
    assert (layout.buses[0].family, layout.buses[0].baud) == ("modbus-relay", 9600)
    assert layout.boards[0].type == "modbus-relay-8"
    assert layout.compartments[0].door_input == (1, 1)
    assert (
        parse_layout(
            '[[bus]]\nid = "a"\nport = "sim"\n[[board]]\naddress = 0\n'
            "[[compartment]]\nid = 1\nboard = 0\nlock = 1\nsize = 'S'\n"
        )
        .buses[0]
        .baud
        == 19200
    )


def test_sensors_are_parsed_with_their_line() -> None:
    layout = load_layout(example_path("modbus_relay"))
    [fridge] = layout.sensors
    assert fridge == SensorSpec("fridge", "cold", 10, "xy-md02", fridge.line)
    assert fridge.line > 0


def test_wrong_families_sensors_and_inputs_are_named_with_their_line() -> None:
    text = (
        '[[bus]]\nid = "k"\nport = "sim"\n'  # 1-3
        + HEAD  # 4-7
        + '[[bus]]\nid = "x"\nport = "sim"\nfamily = "wkly"\n'  # 8-11
        + '[[board]]\nbus = "k"\naddress = 0\ntype = "xor8a"\n'  # 12-15
        + '[[board]]\nbus = "cold"\naddress = 1\ntype = "modbus-relay-16"\n'  # 16-19
        + '[[sensor]]\nid = "t"\nbus = "k"\naddress = 10\n'  # 20-23
        + '[[sensor]]\nid = "u"\nbus = "cold"\naddress = 1\n'  # 24-27
        + "[[compartment]]\nid = 1\nbus = 'cold'\nboard = 1\nlock = 2\nsize = 'S'\n"  # 28-33
    )
    with pytest.raises(LayoutError) as caught:
        parse_layout(text, source="s.toml")
    assert caught.value.problems == [
        "s.toml:11: family 'wkly' is not one of ('kerong', 'xor8a', 'modbus-relay')",
        "s.toml:15: a kerong bus takes boards of type cu16, cu12",
        "s.toml:20: a xy-md02 sensor needs a modbus-relay bus, not kerong",
        "s.toml:24: address 1 on bus 'cold' is already a board",
    ]


def test_a_relay_board_without_inputs_needs_its_doors_mapped() -> None:
    board = '[[board]]\naddress = 2\ntype = "modbus-relay-16"\n'
    inputs = '[[board]]\naddress = 3\ntype = "modbus-input-8"\n'
    place = "[[compartment]]\nid = 1\nboard = 2\nlock = 9\nsize = 'S'\n"
    assert problems(HEAD + board + place) == [
        "s.toml:8: compartment 1: board 2 has no input 9 for its door (inputs: 0)"
    ]
    assert problems(HEAD + board + inputs + place + "input_board = 3\ninput = 9\n") == [
        "s.toml:11: compartment 1: board 3 has no input 9 for its door (inputs: 8)"
    ]
    check_layout(parse_layout(HEAD + board + inputs + place + "input_board = 3\ninput = 8\n"))
    on_inputs = "[[compartment]]\nid = 1\nboard = 3\nlock = 1\nsize = 'S'\n"
    assert problems(HEAD + inputs + on_inputs) == [
        "s.toml:8: compartment 1: a modbus-input-8 board drives no lock"
    ]


def test_8a_channels_are_checked_against_the_board() -> None:
    head = '[[bus]]\nid = "x"\nport = "sim"\nfamily = "xor8a"\n'
    board = "[[board]]\naddress = 1\nchannels = {n}\n"
    place = "[[compartment]]\nid = 1\nboard = 1\nlock = {lock}\nsize = 'S'\n"
    check_layout(parse_layout(head + board.format(n=50) + place.format(lock=50)))
    assert problems(head + board.format(n=51) + place.format(lock=1)) == [
        "s.toml:5: a xor8a board cannot have 51 channels"
    ]
    assert problems(head + board.format(n=12) + place.format(lock=13)) == [
        "s.toml:8: compartment 1: lock 13 is beyond the 12 locks of a xor8a board"
    ]
    kerong_input = '[[bus]]\nid = "k"\nport = "sim"\n[[board]]\naddress = 0\n' + (
        "[[compartment]]\nid = 1\nboard = 0\nlock = 1\ninput = 2\nsize = 'S'\n"
    )
    assert problems(kerong_input) == [
        "s.toml:6: compartment 1: a cu16 board reads its doors itself (no input_board/input)"
    ]
