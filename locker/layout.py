"""The station layout: buses, lock boards and compartments, read from a TOML file.

The file has four kinds of table::

    [station]            name = "..."
    [[bus]]              id, port (a pyserial URL, or "sim"), baud, timeout_ms
    [[board]]            bus, address, type ("cu16", "cu12"), pulse_ms, hook_polarity,
                         ir_sensors
    [[compartment]]      id, bus, board, lock, size, width_mm, height_mm, depth_mm,
                         column, row, accessible, cold_group (``cooled = true``: the
                         old key, read as chilled with no sensor)
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

from common.toml_lines import TomlLines
from locker.cold import groups as cold
from locker.cold.groups import ColdGroup
from locker.types import ColdKind, CompartmentId, SizeClass

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
class Bus:
    id: str
    port: str
    baud: int = 19200
    timeout_ms: int = 200
    line: int = 0


@dataclass(frozen=True)
class Board:
    bus: str
    address: int
    type: str = "cu16"
    pulse_ms: int = 550
    hook_polarity: str = "engaged_high"
    ir_sensors: bool = True
    line: int = 0


@dataclass(frozen=True)
class CompartmentSpec:
    id: CompartmentId
    bus: str
    board: int
    lock: int
    size: SizeClass
    width_mm: int
    height_mm: int
    depth_mm: int
    column: int
    row: int
    accessible: bool = False
    cold: ColdKind | None = None  # the kind of its cold group; None: ambient
    cold_group: str | None = None  # None with a cold kind: an old ``cooled = true``, unwatched
    line: int = 0

    @property
    def dimensions(self) -> tuple[int, int, int]:
        return (self.width_mm, self.height_mm, self.depth_mm)

    @property
    def cooled(self) -> bool:
        return self.cold is not None


@dataclass(frozen=True)
class Layout:
    name: str
    buses: tuple[Bus, ...]
    boards: tuple[Board, ...]
    compartments: tuple[CompartmentSpec, ...]
    source: str = "<layout>"
    cold_groups: tuple[ColdGroup, ...] = ()
    _by_id: dict[CompartmentId, CompartmentSpec] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._by_id.update({c.id: c for c in self.compartments})

    def compartment(self, cid: CompartmentId) -> CompartmentSpec:
        return self._by_id[cid]

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
    "bus": {"id": str, "port": str, "baud": int, "timeout_ms": int},
    "board": {
        "bus": str,
        "address": int,
        "type": str,
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
    },
    "cold_group": cold.FIELDS,
}
_REQUIRED = {
    "bus": ("id", "port"),
    "board": ("address",),
    "compartment": ("id", "board", "lock", "size"),
    "cold_group": cold.REQUIRED,
}


class _Checker:
    def __init__(self, text: str, source: str) -> None:
        self.lines = TomlLines(text)
        self.source = source
        self.problems: list[str] = []

    def fail(self, table: str, index: int, key: str | None, text: str) -> None:
        self.problems.append(f"{self.source}:{self.lines.of(table, index, key)}: {text}")

    def entry(self, table: str, index: int, raw: Any) -> dict[str, Any] | None:
        """Check one table's keys and types; None when it is unusable."""
        if not isinstance(raw, dict):
            self.fail(table, index, None, f"[{table}] must be a table")
            return None
        fields = _FIELDS[table]
        ok = True
        for key, value in raw.items():
            expected = fields.get(key)
            if expected is None:
                known = ", ".join(fields)
                self.fail(table, index, key, f"unknown key '{key}' in [{table}] (known: {known})")
                ok = False
            elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                name = expected.__name__ if isinstance(expected, type) else str(expected)
                self.fail(table, index, key, f"'{key}' must be {name}, not {value!r}")
                ok = False
        for key in _REQUIRED.get(table, ()):
            if key not in raw:
                self.fail(table, index, None, f"[{table}] lacks '{key}'")
                ok = False
        return raw if ok else None


def parse_layout(text: str, source: str = "<layout>") -> Layout:
    """Parse and validate layout TOML; raise :class:`LayoutError` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LayoutError([f"{source}: not valid TOML: {exc}"]) from exc
    check = _Checker(text, source)
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
        cold_groups=tuple(groups.values()),
    )


def _buses(check: _Checker, raw: Any) -> dict[str, Bus]:
    buses: dict[str, Bus] = {}
    for i, item in enumerate(_array(check, "bus", raw)):
        entry = check.entry("bus", i, item)
        if entry is None:
            continue
        bus = Bus(line=check.lines.of("bus", i), **entry)
        if bus.id in buses:
            check.fail("bus", i, "id", f"bus '{bus.id}' is defined twice")
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
        board = Board(**{**entry, "bus": bus, "line": check.lines.of("board", i)})
        if (bus, board.address) in boards:
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
