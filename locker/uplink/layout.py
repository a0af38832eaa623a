"""The station's front as it reports it to the hub (in its birth message), and back: the
hub draws a station's front with :func:`locker.front.drawing`, as the station's own
maintenance screen does, from the layout rebuilt here. Only what a drawing needs goes up
(no buses, boards or locks)."""

from __future__ import annotations

from typing import Any

from locker.layout import CompartmentSpec, Layout
from locker.types import ColdKind, CompartmentId, SizeClass

_KEYS = ("id", "size", "column", "row", "width_mm", "height_mm", "accessible")


def report(layout: Layout) -> dict[str, Any]:
    return {
        "name": layout.name,
        "compartments": [
            {
                "id": int(c.id),
                "size": c.size.value,
                "column": c.column,
                "row": c.row,
                "width_mm": c.width_mm,
                "height_mm": c.height_mm,
                "accessible": c.accessible,
                "cold": c.cold.value if c.cold else None,
            }
            for c in layout.compartments
        ],
    }


def from_report(reported: dict[str, Any] | None) -> Layout | None:
    """The layout a station reported, for drawing; None if it reported none we can draw."""
    if not reported or not isinstance(reported.get("compartments"), list):
        return None
    try:
        specs = tuple(
            CompartmentSpec(
                id=CompartmentId(int(c["id"])),
                bus="",
                board=0,
                lock=0,
                size=SizeClass(c["size"]),
                width_mm=max(1, int(c["width_mm"])),
                height_mm=max(1, int(c["height_mm"])),
                depth_mm=0,
                column=int(c["column"]),
                row=int(c["row"]),
                accessible=bool(c.get("accessible", False)),
                cold=ColdKind(c["cold"]) if c.get("cold") in set(ColdKind) else None,
            )
            for c in reported["compartments"]
            if all(k in c for k in _KEYS[:-1])
        )
    except (TypeError, ValueError, KeyError):
        return None
    if not specs:
        return None
    return Layout(name=str(reported.get("name", "")), buses=(), boards=(), compartments=specs)
