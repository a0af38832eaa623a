"""The station layout: buses, lock boards and compartments, read from a TOML file.

The file has five kinds of table (families and sensors: :mod:`locker.layouts.hardware`)::

    [station]            name = "..."
    [[bus]]              id, port (a pyserial URL, or "sim"), family, baud, timeout_ms
    [[board]]            bus, address, type, channels, pulse_ms, hook_polarity, ir_sensors
    [[compartment]]      id, bus, board, lock, input_board, input, size, width_mm,
                         height_mm, depth_mm, column, row, accessible, cold_group
                         (``cooled = true``: the old key, read as chilled with no sensor)
    [[sensor]]           id, bus, address, type
    [[cold_group]]       id, kind ("chilled", "frozen"), sensor, min_c, max_c

Validation collects every problem and raises one :class:`LayoutError` whose message names
the file and line of each. Board-type specifics (how many locks a board has, which
addresses it accepts) are checked by ``drivers`` against the same line numbers, so this
module stays free of hardware knowledge.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from locker.cold import groups as cold
from locker.cold.groups import ColdGroup
from locker.layouts.hardware import (
    DEFAULT_BAUD,
    DEFAULT_TYPE,
    FAMILIES,
    FAMILY_TYPES,
    KERONG,
    SensorSpec,
    check_sensor,
    family_of_type,
)
from locker.layouts.specs import Board as Board
from locker.layouts.specs import Bus as Bus
from locker.layouts.specs import CompartmentSpec as CompartmentSpec
from locker.layouts.toml_check import Checker as _Checker
from locker.types import CompartmentId, SizeClass

BAUD_RATES = (9600, 19200, 38400, 57600, 115200)
HOOK_POLARITIES = ("engaged_high", "engaged_low")  # lock-protocol.md §1.5 / §1.10
SIM_PORT = "sim"  # the in-process simulator; `locker serve` replaces it with a pty path

# Inner dimensions (width, height, depth in mm) used when a compartment gives only its class.
DEFAULT_DIMENSIONS: Mapping[SizeClass, tuple[int, int, int]] = {
    SizeClass.S: (380, 90, 600),
    SizeClass.M: (380, 190, 600),
    SizeClass.L: (380, 410, 600),
    SizeClass.XL: (380, 600, 600),
}


class LayoutError(ValueError):
    """The layout file is wrong; ``problems`` lists each fault as ``file:line: text``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid station layout:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Layout:
    name: str
    buses: tuple[Bus, ...]
    boards: tuple[Board, ...]
    compartments: tuple[CompartmentSpec, ...]
    source: str = "<layout>"
    sensors: tuple[SensorSpec, ...] = ()
    cold_groups: tuple[ColdGroup, ...] = ()
    _by_id: dict[CompartmentId, CompartmentSpec] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._by_id.update({c.id: c for c in self.compartments})

    def compartment(self, cid: CompartmentId) -> CompartmentSpec:
        return self._by_id[cid]

    def family(self, bus: str) -> str:
        return next(b.family for b in self.buses if b.id == bus)

    def cold_group(self, group: str) -> ColdGroup:
        return next(g for g in self.cold_groups if g.id == group)

    def in_group(self, group: str) -> tuple[CompartmentSpec, ...]:
        return tuple(c for c in self.compartments if c.cold_group == group)

    def boards_on(self, bus: str) -> tuple[Board, ...]:
        return tuple(b for b in self.boards if b.bus == bus)

    def board(self, bus: str, address: int) -> Board:
        return next(b for b in self.boards if b.bus == bus and b.address == address)

    def problem(self, line: int, text: str) -> str:
        """Format one problem the way :class:`LayoutError` lists them."""
        return f"{self.source}:{line}: {text}"


_FIELDS: Mapping[str, Mapping[str, type | tuple[type, ...]]] = {
    "station": {"name": str},
    "bus": {"id": str, "port": str, "family": str, "baud": int, "timeout_ms": int},
    "board": {
        "bus": str,
        "address": int,
        "type": str,
        "channels": int,
        "pulse_ms": int,
        "hook_polarity": str,
        "ir_sensors": bool,
    },
    "compartment": {
        "id": int,
        "bus": str,
        "board": int,
        "lock": int,
        "size": str,
        "width_mm": int,
        "height_mm": int,
        "depth_mm": int,
        "column": int,
        "row": int,
        "accessible": bool,
        "cooled": bool,
        "cold_group": str,
        "input_board": int,
        "input": int,
    },
    "sensor": {"id": str, "bus": str, "address": int, "type": str},
    "cold_group": cold.FIELDS,
}
_REQUIRED = {
    "bus": ("id", "port"),
    "board": ("address",),
    "compartment": ("id", "board", "lock", "size"),
    "sensor": ("id", "address"),
    "cold_group": cold.REQUIRED,
}


def parse_layout(text: str, source: str = "<layout>") -> Layout:
    """Parse and validate layout TOML; raise :class:`LayoutError` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError([f"{source}: not valid TOML: {exc}"]) from exc
    check = _Checker(text, source, _FIELDS, _REQUIRED)
    for key in data:
        if key not in _FIELDS:
            check.fail(key, 0, None, f"unknown table [{key}] (known: {', '.join(_FIELDS)})")
    station = check.entry("station", 0, data.get("station", {})) or {}
    buses = _buses(check, data.get("bus", []))
    boards = _boards(check, data.get("board", []), buses)
    groups = cold.cold_groups(
        _array(check, "cold_group", data.get("cold_group", [])),
        lambda i, item: check.entry("cold_group", i, item),
        lambda i, key, text: check.fail("cold_group", i, key, text),
        lambda i: check.lines.of("cold_group", i),
    )
    compartments = _compartments(check, data.get("compartment", []), buses, boards, groups)
    sensors = _sensors(check, data.get("sensor", []), buses, boards)
    _groups_have_sensors(check, groups, sensors)
    if not compartments and not check.problems:
        check.problems.append(f"{source}: the layout has no [[compartment]]")
    if check.problems:
        raise LayoutError(check.problems)
    return Layout(
        name=str(station.get("name", "Pickup station")),
        buses=tuple(buses.values()),
        boards=tuple(boards.values()),
        compartments=tuple(compartments),
        source=source,
        sensors=tuple(sensors),
        cold_groups=tuple(groups.values()),
    )


def _buses(check: _Checker, raw: Any) -> dict[str, Bus]:
    buses: dict[str, Bus] = {}
    for i, item in enumerate(_array(check, "bus", raw)):
        entry = check.entry("bus", i, item)
        if entry is None:
            continue
        family = entry.get("family", KERONG)
        baud = DEFAULT_BAUD.get(family, 19200)
        bus = Bus(**{"baud": baud, **entry, "line": check.lines.of("bus", i)})
        if bus.id in buses:
            check.fail("bus", i, "id", f"bus '{bus.id}' is defined twice")
        elif family not in FAMILIES:
            check.fail("bus", i, "family", f"family '{family}' is not one of {FAMILIES}")
        elif bus.baud not in BAUD_RATES:
            check.fail("bus", i, "baud", f"baud {bus.baud} is not one of {BAUD_RATES}")
        elif bus.timeout_ms <= 0:
            check.fail("bus", i, "timeout_ms", "timeout_ms must be positive")
        else:
            buses[bus.id] = bus
    return buses


def _default_bus(
    check: _Checker, table: str, i: int, entry: dict[str, Any], buses: dict[str, Bus]
) -> str | None:
    if "bus" in entry:
        if entry["bus"] not in buses:
            check.fail(table, i, "bus", f"unknown bus '{entry['bus']}'")
            return None
        return str(entry["bus"])
    if len(buses) == 1:
        return next(iter(buses))
    check.fail(table, i, None, f"[{table}] must name its 'bus' when there are {len(buses)} buses")
    return None


def _boards(check: _Checker, raw: Any, buses: dict[str, Bus]) -> dict[tuple[str, int], Board]:
    boards: dict[tuple[str, int], Board] = {}
    for i, item in enumerate(_array(check, "board", raw)):
        entry = check.entry("board", i, item)
        if entry is None:
            continue
        bus = _default_bus(check, "board", i, entry, buses)
        if bus is None:
            continue
        family = buses[bus].family
        line = check.lines.of("board", i)
        board = Board(**{"type": DEFAULT_TYPE[family], **entry, "bus": bus, "line": line})
        if board.type not in FAMILY_TYPES[family] and family_of_type(board.type):
            known = ", ".join(FAMILY_TYPES[family])
            check.fail("board", i, "type", f"a {family} bus takes boards of type {known}")
        elif (bus, board.address) in boards:
            check.fail(
                "board", i, "address", f"board {board.address} on bus '{bus}' is defined twice"
            )
        elif board.address < 0:
            check.fail("board", i, "address", "address must not be negative")
        elif not 0 <= board.pulse_ms <= 655_350:  # lock-protocol.md §1.1: 0–655350 ms
            check.fail("board", i, "pulse_ms", "pulse_ms must be within 0..655350")
        elif board.hook_polarity not in HOOK_POLARITIES:
            check.fail(
                "board", i, "hook_polarity", f"hook_polarity must be one of {HOOK_POLARITIES}"
            )
        else:
            boards[(bus, board.address)] = board
    return boards


def _compartments(
    check: _Checker,
    raw: Any,
    buses: dict[str, Bus],
    boards: dict[tuple[str, int], Board],
    groups: dict[str, ColdGroup],
) -> list[CompartmentSpec]:
    result: list[CompartmentSpec] = []
    ids: set[int] = set()
    locks: dict[tuple[str, int, int], int] = {}
    places: dict[tuple[int, int], int] = {}
    for i, item in enumerate(_array(check, "compartment", raw)):
        entry = check.entry("compartment", i, item)
        if entry is None:
            continue
        bus = _default_bus(check, "compartment", i, entry, buses)
        kind = cold.cold_of(entry := dict(entry), groups, partial(check.fail, "compartment", i))
        if bus is None or kind is None:
            continue
        try:
            size = SizeClass(entry["size"])
        except ValueError:
            check.fail(
                "compartment", i, "size", f"size '{entry['size']}' is not one of S, M, L, XL"
            )
            continue
        width, height, depth = DEFAULT_DIMENSIONS[size]
        spec = CompartmentSpec(
            **{
                "width_mm": width,
                "height_mm": height,
                "depth_mm": depth,
                "column": 1,
                "row": i + 1,
                **entry,
                "bus": bus,
                "size": size,
                "id": CompartmentId(entry["id"]),
                "line": check.lines.of("compartment", i),
                "cold": kind[0],
                "cold_group": kind[1],
            }
        )
        where = (bus, spec.board, spec.lock)
        if spec.id <= 0:
            check.fail("compartment", i, "id", "compartment id must be a positive number")
        elif spec.id in ids:
            check.fail("compartment", i, "id", f"compartment {spec.id} is defined twice")
        elif (bus, spec.board) not in boards:
            check.fail("compartment", i, "board", f"unknown board {spec.board} on bus '{bus}'")
        elif spec.lock < 1:
            check.fail("compartment", i, "lock", "lock numbers start at 1")
        elif (bus, spec.door_input[0]) not in boards or spec.door_input[1] < 1:
            check.fail("compartment", i, "input", f"no input {spec.door_input} on bus '{bus}'")
        elif where in locks:
            check.fail(
                "compartment",
                i,
                "lock",
                f"lock {spec.lock} of board {spec.board} already drives compartment {locks[where]}",
            )
        elif min(spec.dimensions) <= 0:
            check.fail("compartment", i, None, "inner dimensions must be positive")
        elif (spec.column, spec.row) in places:
            check.fail(
                "compartment",
                i,
                "row",
                f"column {spec.column}, row {spec.row} is already compartment "
                f"{places[(spec.column, spec.row)]}",
            )
        else:
            ids.add(spec.id)
            locks[where] = spec.id
            places[(spec.column, spec.row)] = spec.id
            result.append(spec)
    return result


def _sensors(
    check: _Checker, raw: Any, buses: dict[str, Bus], boards: dict[tuple[str, int], Board]
) -> list[SensorSpec]:
    result: list[SensorSpec] = []
    taken = {(bus, address): "a board" for bus, address in boards}
    for i, item in enumerate(_array(check, "sensor", raw)):
        entry = check.entry("sensor", i, item)
        bus = None if entry is None else _default_bus(check, "sensor", i, entry, buses)
        if entry is None or bus is None:
            continue
        spec = SensorSpec(**{**entry, "bus": bus, "line": check.lines.of("sensor", i)})
        on_bus = {a: what for (b, a), what in taken.items() if b == bus}
        if spec.id in {s.id for s in result}:
            check.fail("sensor", i, "id", f"sensor '{spec.id}' is defined twice")
        elif problem := check_sensor(spec, buses[bus].family, on_bus):
            check.fail("sensor", i, None, problem)
        else:
            taken[(bus, spec.address)] = f"sensor '{spec.id}'"
            result.append(spec)
    return result


def _groups_have_sensors(
    check: _Checker, groups: dict[str, ColdGroup], sensors: list[SensorSpec]
) -> None:
    """Each cold group's ``sensor`` names a ``[[sensor]]`` of the layout."""
    known = {s.id for s in sensors}
    for group in groups.values():
        if group.sensor not in known:
            names = ", ".join(sorted(known)) or "none"
            check.problems.append(
                f"{check.source}:{group.line}: cold group '{group.id}' names sensor "
                f"'{group.sensor}', which no [[sensor]] defines (defined: {names})"
            )


def _array(check: _Checker, table: str, raw: Any) -> list[Any]:
    if isinstance(raw, list):
        return raw
    check.fail(table, 0, None, f"[{table}] must be an array of tables: write [[{table}]]")
    return []


def load_layout(path: str | Path) -> Layout:
    """Read and validate a layout file."""
    path = Path(path)
    return parse_layout(path.read_text(encoding="utf-8"), source=str(path))


def demo_layout() -> Layout:
    """The built-in layout: two CU16 boards, 32 compartments of mixed sizes, on the simulator."""
    text = resources.files("locker").joinpath("demo_layout.toml").read_text(encoding="utf-8")
    return parse_layout(text, source="demo_layout.toml")
