"""A cold group: compartments cooled together, with one thermometer and one band.

In the layout::

    [[cold_group]]
    id = "fridge"
    kind = "chilled"      # or "frozen"
    sensor = "fridge"     # a [[sensor]] id
    min_c = 2             # defaults: chilled 2..8 °C, frozen -18 °C or colder (no floor)
    max_c = 8

and ``cold_group = "fridge"`` on each of its ``[[compartment]]`` tables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from locker.types import ColdKind

# The usual bands of cooled lockers (modbus-relay.md §6): chilled 2..8 °C, frozen
# -18 °C or colder.
DEFAULT_BANDS: Mapping[ColdKind, tuple[float | None, float | None]] = {
    ColdKind.CHILLED: (2.0, 8.0),
    ColdKind.FROZEN: (None, -18.0),
}
FIELDS: Mapping[str, type | tuple[type, ...]] = {
    "id": str,
    "kind": str,
    "sensor": str,
    "min_c": (int, float),
    "max_c": (int, float),
}
REQUIRED = ("id", "kind", "sensor")


@dataclass(frozen=True)
class Band:
    """The temperatures a group must keep, in °C; None: no bound on that side."""

    min_c: float | None
    max_c: float | None

    def holds(self, celsius: float) -> bool:
        if self.min_c is not None and celsius < self.min_c:
            return False
        return self.max_c is None or celsius <= self.max_c

    def text(self) -> str:
        if self.min_c is None:
            return f"≤ {self.max_c:g} °C"
        if self.max_c is None:
            return f"≥ {self.min_c:g} °C"
        return f"{self.min_c:g}–{self.max_c:g} °C"


@dataclass(frozen=True)
class ColdGroup:
    id: str
    kind: ColdKind
    sensor: str
    min_c: float | None = None
    max_c: float | None = None
    line: int = 0

    @property
    def band(self) -> Band:
        return Band(self.min_c, self.max_c)


Fail = Callable[[str | None, str], None]  # (key, text): one problem of the table at hand


def cold_groups(
    items: list[Any],
    entry: Callable[[int, Any], dict[str, Any] | None],
    fail: Callable[[int, str | None, str], None],
    line: Callable[[int], int],
) -> dict[str, ColdGroup]:
    """The ``[[cold_group]]`` tables by id. ``entry`` checks a table's keys and types (the
    layout's checker), ``fail`` reports a problem of table i, ``line`` finds its line."""
    groups: dict[str, ColdGroup] = {}
    for i, item in enumerate(items):
        checked = entry(i, item)
        if checked is None:
            continue
        group = _group(checked, line(i), partial(fail, i))
        if group is not None and group.id in groups:
            fail(i, "id", f"cold group '{group.id}' is defined twice")
        elif group is not None:
            groups[group.id] = group
    return groups


def cold_of(
    entry: dict[str, Any], groups: Mapping[str, ColdGroup], fail: Fail
) -> tuple[ColdKind | None, str | None] | None:
    """A compartment's cold kind and group, taken out of its checked ``entry``; None (after
    ``fail``) when they are wrong. The old ``cooled = true`` without a group reads as a
    chilled compartment with no thermometer (unwatched), so old layouts still load."""
    cooled = entry.pop("cooled", None)
    group = entry.pop("cold_group", None)
    if group is None:
        return (ColdKind.CHILLED if cooled else None), None
    if group not in groups:
        fail("cold_group", f"unknown cold group '{group}'")
        return None
    if cooled is False:
        fail("cooled", "cooled = false contradicts its cold_group")
        return None
    return groups[group].kind, group


def _group(entry: Mapping[str, Any], line: int, fail: Fail) -> ColdGroup | None:
    """One ``[[cold_group]]`` table whose keys and types are checked already; None (after
    ``fail(key, text)``) when its values are wrong."""
    try:
        kind = ColdKind(entry["kind"])
    except ValueError:
        fail("kind", f"kind '{entry['kind']}' is not one of chilled, frozen")
        return None
    low, high = DEFAULT_BANDS[kind]
    min_c = float(entry["min_c"]) if "min_c" in entry else low
    max_c = float(entry["max_c"]) if "max_c" in entry else high
    if min_c is None and max_c is None:
        fail("min_c", "a band needs min_c or max_c")
        return None
    if min_c is not None and max_c is not None and min_c >= max_c:
        fail("max_c", f"max_c ({max_c:g}) must be above min_c ({min_c:g})")
        return None
    if not entry["id"] or not entry["sensor"]:
        fail("id", "a cold group needs an id and a sensor")
        return None
    return ColdGroup(
        id=str(entry["id"]),
        kind=kind,
        sensor=str(entry["sensor"]),
        min_c=min_c,
        max_c=max_c,
        line=line,
    )
