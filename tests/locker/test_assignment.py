"""Best-fit assignment: smallest that fits, accessible and cooled kept for those who need them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locker.assignment import ParcelNeeds, choose, fits
from locker.layout import DEFAULT_DIMENSIONS, CompartmentSpec, demo_layout
from locker.types import ColdKind, CompartmentId, SizeClass


def spec(
    cid: int,
    size: SizeClass,
    *,
    accessible: bool = False,
    cold: ColdKind | None = None,
    dims: tuple[int, int, int] | None = None,
) -> CompartmentSpec:
    width, height, depth = dims or DEFAULT_DIMENSIONS[size]
    return CompartmentSpec(
        id=CompartmentId(cid),
        bus="b",
        board=0,
        lock=cid,
        size=size,
        width_mm=width,
        height_mm=height,
        depth_mm=depth,
        column=1,
        row=cid,
        accessible=accessible,
        cold=cold,
    )


S, M, L, XL = SizeClass


def test_smallest_fitting_class_wins() -> None:
    free = [spec(1, XL), spec(2, L), spec(3, M)]
    chosen = choose(ParcelNeeds(size=M), free)
    assert chosen is not None
    assert chosen.id == 3


def test_larger_class_only_when_no_smaller_is_free() -> None:
    chosen = choose(ParcelNeeds(size=M), [spec(1, XL), spec(2, L)])
    assert chosen is not None
    assert chosen.id == 2


def test_nothing_fits() -> None:
    assert choose(ParcelNeeds(size=XL), [spec(1, S), spec(2, L)]) is None
    assert choose(ParcelNeeds(size=S), []) is None


def test_dimensions_may_be_turned() -> None:
    box = spec(1, M, dims=(380, 190, 600))
    assert fits(ParcelNeeds(dimensions_mm=(600, 100, 300)), box)
    assert not fits(ParcelNeeds(dimensions_mm=(601, 100, 300)), box)
    assert not fits(ParcelNeeds(dimensions_mm=(200, 200, 200)), box)


def test_dimensions_choose_the_smallest_volume() -> None:
    free = [spec(1, L), spec(2, M, dims=(380, 250, 600)), spec(3, M)]
    chosen = choose(ParcelNeeds(dimensions_mm=(300, 200, 500)), free)
    assert chosen is not None
    assert chosen.id == 2


def test_accessible_kept_for_those_who_need_them() -> None:
    free = [spec(1, M, accessible=True), spec(2, M)]
    plain = choose(ParcelNeeds(size=M), free)
    needy = choose(ParcelNeeds(size=M, accessible=True), free)
    assert plain is not None
    assert needy is not None
    assert (plain.id, needy.id) == (2, 1)


def test_a_wheelchair_user_gets_a_larger_low_door_before_a_high_one() -> None:
    chosen = choose(ParcelNeeds(size=S, accessible=True), [spec(1, S), spec(2, L, accessible=True)])
    assert chosen is not None
    assert chosen.id == 2


CHILLED, FROZEN = ColdKind
KINDS = st.sampled_from([None, CHILLED, FROZEN])


def test_cooled_parcels_only_in_cooled_compartments() -> None:
    assert choose(ParcelNeeds(size=S, cold=CHILLED), [spec(1, S), spec(2, XL)]) is None
    free = [spec(1, S, cold=CHILLED), spec(2, S)]
    chosen = choose(ParcelNeeds(size=S), free)
    assert chosen is not None
    assert chosen.id == 2


def test_an_ambient_parcel_takes_a_chilled_compartment_last_and_never_a_frozen_one() -> None:
    assert choose(ParcelNeeds(size=S), [spec(1, S, cold=FROZEN)]) is None
    chosen = choose(ParcelNeeds(size=S), [spec(1, S, cold=FROZEN), spec(2, S, cold=CHILLED)])
    assert chosen is not None
    assert chosen.id == 2


@given(
    kind=KINDS,
    kinds=st.lists(KINDS, min_size=1, max_size=8),
    sizes=st.lists(st.sampled_from(list(SizeClass)), min_size=8, max_size=8),
)
def test_a_cold_parcel_only_ever_in_its_own_kind(
    kind: ColdKind | None, kinds: list[ColdKind | None], sizes: list[SizeClass]
) -> None:
    free = [spec(i + 1, sizes[i], cold=k) for i, k in enumerate(kinds)]
    chosen = choose(ParcelNeeds(size=S, cold=kind), free)
    if kind is not None:
        assert (chosen is None) == (kind not in kinds)
        assert chosen is None or chosen.cold is kind
    else:
        assert chosen is None or chosen.cold is not FROZEN
        assert (chosen is None) == all(k is FROZEN for k in kinds)


def test_a_parcel_needs_a_size_or_dimensions() -> None:
    with pytest.raises(ValueError, match="size class or its dimensions"):
        ParcelNeeds()
    with pytest.raises(ValueError, match="positive"):
        ParcelNeeds(dimensions_mm=(0, 10, 10))


DEMO = demo_layout().compartments


@given(
    size=st.sampled_from(list(SizeClass)),
    accessible=st.booleans(),
    free_ids=st.sets(st.sampled_from([c.id for c in DEMO])),
)
def test_choice_fits_and_no_smaller_class_was_free(
    size: SizeClass, accessible: bool, free_ids: set[int]
) -> None:
    free = [c for c in DEMO if c.id in free_ids]
    needs = ParcelNeeds(size=size, accessible=accessible)
    chosen = choose(needs, free)
    fitting = [c for c in free if fits(needs, c)]
    if chosen is None:
        assert not fitting
        return
    assert fits(needs, chosen)
    same_reach = [c for c in fitting if c.accessible == chosen.accessible]
    assert chosen.size.rank == min(c.size.rank for c in same_reach)
    if not accessible:
        assert chosen.size.rank == min(c.size.rank for c in fitting)
    else:
        assert chosen.accessible or not any(c.accessible for c in fitting)
