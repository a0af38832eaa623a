"""The simulated station's doors, for a newcomer with curl (and the /sim screen): close a
door, put a parcel in or take it out, inject a fault. Mounted only on the simulator, and
only for staff or the simulator's own token (LOCKER_SIM_TOKEN, else printed at start-up):
a simulated demo reachable on a network must not let anyone put or take parcels."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path

from api.openapi_errors import problem_responses
from api.problems import ProblemError
from api.schemas import MAX_ID
from api.schemas_system import SimDoorOut, SimFaultIn
from api.security import Ctx, SimHands
from sim.faults import Fault
from sim.station import SimStation

router = APIRouter(
    prefix="/api/v1/sim", tags=["simulator"], responses=problem_responses(401, 403, 404)
)
CompartmentNo = Annotated[int, Path(ge=1, le=MAX_ID)]
Hand = Literal["open", "close", "put", "take"]


def _sim(ctx: Ctx, compartment_id: int | None = None) -> SimStation:
    if ctx.sim is None:
        raise ProblemError(404, "not_found", "This station runs on real boards.")
    if compartment_id is not None and compartment_id not in {
        c.id for c in ctx.station.layout.compartments
    }:
        raise ProblemError(
            404, "compartment_not_found", f"compartment {compartment_id} does not exist"
        )
    return ctx.sim


def _door(sim: SimStation, compartment_id: int) -> SimDoorOut:
    state = sim.state(compartment_id)
    return SimDoorOut(
        compartment_id=compartment_id,
        latched=state.latched,
        open=state.door_open,
        item=state.item,
        pulses=sim.pulses(compartment_id),
    )


@router.get("/doors")
def doors(ctx: Ctx, who: SimHands) -> list[SimDoorOut]:
    """Every simulated door as a person in front of it would see it."""
    sim = _sim(ctx)
    return [_door(sim, c.id) for c in ctx.station.layout.compartments]


@router.post("/doors/{compartment_id}/fault")
def inject(compartment_id: CompartmentNo, body: SimFaultIn, ctx: Ctx, who: SimHands) -> SimDoorOut:
    """Make the compartment's lock or board misbehave (see sim/faults.py)."""
    sim = _sim(ctx, compartment_id)
    sim.inject(compartment_id, Fault(body.fault), count=body.count)
    return _door(sim, compartment_id)


@router.delete("/doors/{compartment_id}/fault")
def repair(compartment_id: CompartmentNo, ctx: Ctx, who: SimHands) -> SimDoorOut:
    """Clear every fault of the compartment's board (its other locks' too)."""
    sim = _sim(ctx, compartment_id)
    sim.repair(compartment_id)
    return _door(sim, compartment_id)


# Declared last: its {hand} would otherwise catch .../fault.
@router.post("/doors/{compartment_id}/{hand}")
def use_door(compartment_id: CompartmentNo, hand: Hand, ctx: Ctx, who: SimHands) -> SimDoorOut:
    """A hand at the door: ``open`` (an unlatched door), ``close``, ``put`` or ``take``."""
    sim = _sim(ctx, compartment_id)
    {"open": sim.open, "close": sim.close, "put": sim.put, "take": sim.take}[hand](compartment_id)
    return _door(sim, compartment_id)
