"""The front drawn from the layout: doors where the layout puts them, sized by their
measurements, never overlapping, filling every column from the top."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from locker.front import Tile, drawing
from locker.layout import CompartmentSpec, Layout, demo_layout
from locker.types import CompartmentId, SizeClass

EPS = 1e-9


def _overlap(a: Tile, b: Tile) -> bool:
    return (
        a.x + a.width > b.x + EPS
        and b.x + b.width > a.x + EPS
        and a.y + a.height > b.y + EPS
        and b.y + b.height > a.y + EPS
    )


def test_the_demo_front() -> None:
    drawn = drawing(demo_layout())
    assert drawn.width_mm == 4 * 380  # four columns of 380 mm doors
    by_id = {t.compartment_id: t for t in drawn.tiles}
    assert [t.compartment_id for t in drawn.tiles] == sorted(by_id)
    assert (by_id[1].x, by_id[1].y) == (0, 0)  # top left
    assert by_id[9].x == by_id[1].width  # second column starts where the first ends
    assert by_id[2].y == by_id[1].height  # stacked from the top
    # an XL door is drawn taller than an S door in proportion to their heights
    assert abs(by_id[32].height / by_id[25].height - 600 / 90) < 1e-6


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    columns = draw(st.integers(1, 6))
    specs: list[CompartmentSpec] = []
    for column in range(1, columns + 1):
        rows = draw(st.integers(1, 8))
        width = draw(st.integers(200, 600))
        for row in range(1, rows + 1):
            specs.append(
                CompartmentSpec(
                    id=CompartmentId(len(specs) + 1),
                    bus="main",
                    board=0,
                    lock=len(specs) + 1,
                    size=SizeClass.S,
                    width_mm=width,
                    height_mm=draw(st.integers(50, 700)),
                    depth_mm=500,
                    column=column * 10,  # the layout's numbers need not be 1, 2, 3
                    row=draw(st.integers(0, 3)) + row * 5,
                )
            )
    return Layout(name="t", buses=(), boards=(), compartments=tuple(specs))


@given(layouts())
def test_every_door_is_drawn_inside_the_front_without_overlap(layout: Layout) -> None:
    drawn = drawing(layout)
    assert len(drawn.tiles) == len(layout.compartments)
    for tile in drawn.tiles:
        assert tile.x >= 0
        assert tile.y >= 0
        assert tile.x + tile.width <= 1 + EPS
        assert tile.y + tile.height <= 1 + EPS
    for a, b in itertools.combinations(drawn.tiles, 2):
        assert not _overlap(a, b), (a, b)
    # the tallest column fills the front's height exactly
    assert any(abs(t.y + t.height - 1) < 1e-9 for t in drawn.tiles)
