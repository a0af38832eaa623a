"""What a courier is told when no compartment of the parcel's cold kind is free."""

from __future__ import annotations

from sqlmodel import Session, select

from locker.cold.tables import ColdGroupState
from locker.errors import NoFreeColdCompartment
from locker.layout import Layout
from locker.types import ColdKind

_WHY = {
    "silent": "its thermometer does not answer",
    "out_of_band": "out of {band}",
    "unknown": "not read in {band} yet",
}


def no_cold_compartment(session: Session, layout: Layout, kind: ColdKind) -> NoFreeColdCompartment:
    """The refusal, naming the kind and why: the station has none of that kind, its groups
    are out of their band (closed to new parcels), or all of them are taken."""
    groups = [g for g in layout.cold_groups if g.kind is kind]
    has_any = any(spec.cold is kind for spec in layout.compartments)
    states = {row.group: row for row in session.exec(select(ColdGroupState)).all()}
    closed = {
        g.id: states[g.id].status if g.id in states else "unknown"
        for g in groups
        if g.id not in states or states[g.id].closed
    }
    never = "it never goes into an ambient compartment"
    if not has_any:
        return NoFreeColdCompartment(
            kind, f"this station has no {kind.value} compartment: a {kind.value} parcel needs one"
        )
    shut = [g for g in groups if g.id in closed]
    if shut and len(shut) == len(groups):
        why = ", ".join(f"{g.id} ({_WHY[closed[g.id]].format(band=g.band.text())})" for g in shut)
        return NoFreeColdCompartment(
            kind,
            f"no {kind.value} compartment takes parcels now: {why}; {never}. "
            "Staff have been alerted; take the parcel back to the depot or try later",
        )
    return NoFreeColdCompartment(
        kind, f"no free {kind.value} compartment fits this parcel; {never}"
    )
