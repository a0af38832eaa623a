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


@dataclass(frozen=True)
class Tile:
    """A compartment's door on a drawing of the front, as fractions of the front's width
    and height (0 = left/top), so a screen can scale the drawing to any size."""

    compartment_id: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Drawing:
    """The whole front: its size in mm (for its proportions) and every door on it."""

    width_mm: int
    height_mm: int
    tiles: tuple[Tile, ...]  # in compartment order


def drawing(layout: Layout) -> Drawing:
    """The front as it is built: columns side by side, each as wide as its widest
    compartment, compartments stacked from the top in row order, sized by their heights."""
    columns = sorted({c.column for c in layout.compartments})
    stacks = {
        column: sorted((c for c in layout.compartments if c.column == column), key=lambda c: c.row)
        for column in columns
    }
    widths = {column: max(c.width_mm for c in stacks[column]) for column in columns}
    total_width = sum(widths.values())
    total_height = max(sum(c.height_mm for c in stack) for stack in stacks.values())
    drawn: list[Tile] = []
    left = 0
    for column in columns:
        top = 0
        for spec in stacks[column]:
            drawn.append(
                Tile(
                    compartment_id=spec.id,
                    x=left / total_width,
                    y=top / total_height,
                    width=widths[column] / total_width,
                    height=spec.height_mm / total_height,
                )
            )
            top += spec.height_mm
        left += widths[column]
    return Drawing(
        width_mm=total_width,
        height_mm=total_height,
        tiles=tuple(sorted(drawn, key=lambda t: t.compartment_id)),
    )
