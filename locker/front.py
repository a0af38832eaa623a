"""Where a compartment is on the station's front, in words a person at the station follows."""

from __future__ import annotations

from dataclasses import dataclass

from locker.layout import Layout
from locker.types import CompartmentId

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


@dataclass(frozen=True)
class Location:
    compartment_id: int
    column: int  # 1 = leftmost column of the front
    columns: int
    row: int  # 1 = top of its column
    rows: int  # compartments in that column
    height: str  # "top", "middle" or "bottom"

    @property
    def text(self) -> str:
        """E.g. ``"second column from the left, bottom"``."""
        place = f"{_ordinal(self.row)} from the top" if self.height == "middle" else self.height
        return f"{_ordinal(self.column)} column from the left, {place}"


def _ordinal(n: int) -> str:
    return ORDINALS[n - 1] if n <= len(ORDINALS) else f"{n}th"


def locate(layout: Layout, compartment_id: int) -> Location:
    spec = layout.compartment(CompartmentId(compartment_id))
    columns = sorted({c.column for c in layout.compartments})
    stack = sorted(c.row for c in layout.compartments if c.column == spec.column)
    row = stack.index(spec.row) + 1
    if row == 1:
        height = "top"
    elif row == len(stack):
        height = "bottom"
    else:
        height = "middle"
    return Location(
        compartment_id=spec.id,
        column=columns.index(spec.column) + 1,
        columns=len(columns),
        row=row,
        rows=len(stack),
        height=height,
    )
