"""Board types by name, imported only when a layout uses them.

A new board type is one module with a :class:`~drivers.board.BoardBase` subclass plus one
line in :data:`BOARD_TYPES`; the name is what a layout's ``[[board]] type`` says.
"""

from __future__ import annotations

import importlib
from functools import cache

from drivers.base import BoardBase
from locker.layout import CompartmentSpec, Layout, LayoutError

# name → (module, class), imported lazily by board_class()
BOARD_TYPES: dict[str, tuple[str, str]] = {
    "cu16": ("drivers.kerong_cu16", "Cu16Board"),
    "cu12": ("drivers.kerong_cu12", "Cu12Board"),
    "xor8a": ("drivers.xor8a", "Xor8aBoard"),
    "modbus-relay-8": ("drivers.modbus_relay", "Relay8Board"),
    "modbus-relay-16": ("drivers.modbus_relay", "Relay16Board"),
    "modbus-input-8": ("drivers.modbus_relay", "InputBoard"),
}


@cache
def board_class(name: str) -> type[BoardBase]:
    """The class of board type ``name``. :raises KeyError: for an unknown name."""
    try:
        module_name, class_name = BOARD_TYPES[name]
    except KeyError:
        raise KeyError(f"unknown board type {name!r} (known: {', '.join(BOARD_TYPES)})") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, BoardBase)):
        raise TypeError(f"{module_name}.{class_name} is not a BoardBase")
    return cls


def check_layout(layout: Layout) -> None:
    """Check a layout against its board types; raise one error listing every problem.

    Finds unknown board types, addresses the type cannot reach and lock numbers beyond
    the board. :raises LayoutError: with ``file:line: text`` entries.
    """
    problems: list[str] = []
    types: dict[tuple[str, int], type[BoardBase]] = {}
    locks: dict[tuple[str, int], int] = {}
    for board in layout.boards:
        if board.type not in BOARD_TYPES:
            known = ", ".join(BOARD_TYPES)
            problems.append(
                layout.problem(board.line, f"unknown board type {board.type!r} (known: {known})")
            )
            continue
        cls = board_class(board.type)
        types[(board.bus, board.address)] = cls
        locks[(board.bus, board.address)] = board.channels or cls.LOCKS
        if board.channels is not None and board.channels not in (cls.CHANNELS or ()):
            problems.append(
                layout.problem(
                    board.line, f"a {cls.TYPE} board cannot have {board.channels} channels"
                )
            )
        elif board.address not in cls.ADDRESSES:
            span = f"{cls.ADDRESSES.start}..{cls.ADDRESSES.stop - 1}"
            problems.append(
                layout.problem(
                    board.line,
                    f"board address {board.address} is outside {span} for a {cls.TYPE} board",
                )
            )
    for spec in layout.compartments:
        found = types.get((spec.bus, spec.board))
        count = locks.get((spec.bus, spec.board), 0)
        if found is not None and not 1 <= spec.lock <= count:
            problems.append(
                layout.problem(
                    spec.line,
                    f"compartment {spec.id}: lock {spec.lock} is beyond the "
                    f"{count} locks of a {found.TYPE} board",
                )
            )
        elif found is not None and (problem := _door_input_problem(spec, found, types)):
            problems.append(layout.problem(spec.line, f"compartment {spec.id}: {problem}"))
    if problems:
        raise LayoutError(problems)


def _door_input_problem(
    spec: CompartmentSpec, found: type[BoardBase], types: dict[tuple[str, int], type[BoardBase]]
) -> str | None:
    """What is wrong with where a relay board's compartment reads its door, or None."""
    relays = getattr(found, "RELAYS", None)
    if relays is None:  # a lock board: the door is its own lock's feedback
        if spec.input_board is not None or spec.input is not None:
            return f"a {found.TYPE} board reads its doors itself (no input_board/input)"
        return None
    if relays == 0:
        return f"a {found.TYPE} board drives no lock"
    board, number = spec.door_input
    source = types.get((spec.bus, board))
    inputs = getattr(source, "INPUTS", 0)
    if not 1 <= number <= inputs:
        return f"board {board} has no input {number} for its door (inputs: {inputs})"
    return None
