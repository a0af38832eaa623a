"""The board-type registry and the layout check against board types."""

from __future__ import annotations

import subprocess
import sys

import pytest

from drivers.base import BoardBase
from drivers.kerong_cu12 import Cu12Board
from drivers.kerong_cu16 import Cu16Board
from drivers.registry import BOARD_TYPES, board_class, check_layout
from locker.layout import LayoutError, demo_layout, parse_layout

BAD_LAYOUT = """\
[[bus]]
id = "main"
port = "sim"

[[board]]
address = 0
type = "cu48"

[[board]]
address = 10
type = "cu16"

[[board]]
address = 3
type = "cu12"

[[board]]
address = 4
type = "cu16"

[[compartment]]
id = 1
board = 3
lock = 13
size = "S"

[[compartment]]
id = 2
board = 4
lock = 17
size = "S"

[[compartment]]
id = 3
board = 3
lock = 12
size = "S"
"""


def test_board_types_are_named_in_one_table() -> None:
    assert BOARD_TYPES == {
        "cu16": ("drivers.kerong_cu16", "Cu16Board"),
        "cu12": ("drivers.kerong_cu12", "Cu12Board"),
        "xor8a": ("drivers.xor8a", "Xor8aBoard"),
        "modbus-relay-8": ("drivers.modbus_relay", "Relay8Board"),
        "modbus-relay-16": ("drivers.modbus_relay", "Relay16Board"),
        "modbus-input-8": ("drivers.modbus_relay", "InputBoard"),
    }
    assert board_class("cu16") is Cu16Board
    assert board_class("cu12") is Cu12Board
    for cls in (Cu16Board, Cu12Board):
        assert issubclass(cls, BoardBase)
        assert cls.LOCKS > 0
        assert len(cls.ADDRESSES) > 0


def test_an_unknown_board_type_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="cu48"):
        board_class("cu48")


def test_board_modules_are_imported_only_when_asked_for() -> None:
    code = (
        "import sys, drivers.registry as r\n"
        "assert 'drivers.kerong_cu12' not in sys.modules\n"
        "r.board_class('cu12')\n"
        "assert 'drivers.kerong_cu12' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_check_layout_names_every_problem_with_its_line() -> None:
    layout = parse_layout(BAD_LAYOUT, source="station.toml")
    with pytest.raises(LayoutError) as caught:
        check_layout(layout)
    assert caught.value.problems == [
        "station.toml:5: unknown board type 'cu48' (known: cu16, cu12, xor8a, "
        "modbus-relay-8, modbus-relay-16, modbus-input-8)",
        "station.toml:9: board address 10 is outside 0..9 for a cu16 board",
        "station.toml:21: compartment 1: lock 13 is beyond the 12 locks of a cu12 board",
        "station.toml:27: compartment 2: lock 17 is beyond the 16 locks of a cu16 board",
    ]


def test_the_demo_layout_fits_its_board_types() -> None:
    check_layout(demo_layout())
