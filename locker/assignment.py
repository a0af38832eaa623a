"""Choosing a compartment for a parcel: pure best fit, no I/O.

The smallest compartment the parcel fits in wins, so larger ones stay free for larger
parcels. Accessible (low) compartments are kept for recipients who need them.

A cold parcel (chilled or frozen) goes only into a compartment of its own kind, never an
ambient one. An ambient parcel never goes into a frozen compartment (frost spoils it),
and into a chilled one only as a last resort within the same size: a fridge harms no
parcel, but its room is kept for those that need it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from locker.layout import CompartmentSpec
from locker.types import ColdKind, SizeClass


@dataclass(frozen=True)
class ParcelNeeds:
    """What a parcel asks of its compartment."""

    size: SizeClass | None = None
    dimensions_mm: tuple[int, int, int] | None = None  # any order: the parcel may be turned
    accessible: bool = False
    cold: ColdKind | None = None  # None: ambient

    def __post_init__(self) -> None:
        if self.size is None and self.dimensions_mm is None:
            raise ValueError("a parcel needs a size class or its dimensions")
        if self.dimensions_mm is not None and min(self.dimensions_mm) <= 0:
            raise ValueError("parcel dimensions must be positive")


def fits(needs: ParcelNeeds, spec: CompartmentSpec) -> bool:
    if needs.cold is not spec.cold and (needs.cold or spec.cold is ColdKind.FROZEN):
        return False
    if needs.size is not None and spec.size.rank < needs.size.rank:
        return False
    if needs.dimensions_mm is not None:
        parcel = sorted(needs.dimensions_mm)
        inner = sorted(spec.dimensions)
        return all(p <= c for p, c in zip(parcel, inner, strict=True))
    return True


def _preference(needs: ParcelNeeds, spec: CompartmentSpec) -> tuple[int, ...]:
    accessible_miss = int(spec.accessible != needs.accessible)
    wasted_cooling = int(spec.cold is not needs.cold)
    volume = spec.width_mm * spec.height_mm * spec.depth_mm
    if needs.accessible:
        # Reachability first: a wheelchair user is better served by a larger low door.
        return (accessible_miss, spec.size.rank, volume, wasted_cooling, spec.id)
    return (spec.size.rank, volume, accessible_miss, wasted_cooling, spec.id)


def ranked(needs: ParcelNeeds, free: Iterable[CompartmentSpec]) -> list[CompartmentSpec]:
    """Every free compartment that fits ``needs``, the best first."""
    return sorted(
        (spec for spec in free if fits(needs, spec)), key=lambda spec: _preference(needs, spec)
    )


def choose(needs: ParcelNeeds, free: Iterable[CompartmentSpec]) -> CompartmentSpec | None:
    """The best free compartment for ``needs``, or None when none fits."""
    best = ranked(needs, free)
    return best[0] if best else None
