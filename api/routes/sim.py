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
from api.schemas_system import SimDoorOut, SimFaultIn, SimSensorIn, SimSensorOut
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


def _sensor(ctx: Ctx, sensor_id: str) -> tuple[SimStation, SimSensorOut]:
    sim = _sim(ctx)
    spec = next((s for s in ctx.station.layout.sensors if s.id == sensor_id), None)
    if spec is None:
        raise ProblemError(404, "sensor_not_found", f"sensor {sensor_id!r} does not exist")
    silent = any(
        i.fault is Fault.GONE and i.board == spec.address
        for i in sim.buses[spec.bus].faults.active()
    )
    out = SimSensorOut(
        sensor_id=spec.id, address=spec.address, celsius=sim.temperature(spec.id), silent=silent
    )
    return sim, out


SensorId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/sensors")
def sensors(ctx: Ctx, who: SimHands) -> list[SimSensorOut]:
    """Every simulated temperature sensor: what it would read, and whether it is silent."""
    return [_sensor(ctx, s.id)[1] for s in ctx.station.layout.sensors]


@router.put("/sensors/{sensor_id}")
def set_temperature(
    sensor_id: SensorId, body: SimSensorIn, ctx: Ctx, who: SimHands
) -> SimSensorOut:
    """Warm a sensor up or cool it down, at once and then by ``drift_per_min``."""
    sim, _ = _sensor(ctx, sensor_id)
    sim.set_temperature(sensor_id, body.celsius, body.drift_per_min)
    return _sensor(ctx, sensor_id)[1]


@router.post("/sensors/{sensor_id}/silence")
def silence(sensor_id: SensorId, ctx: Ctx, who: SimHands) -> SimSensorOut:
    """The sensor stops answering (the "silent sensor" fault)."""
    sim, _ = _sensor(ctx, sensor_id)
    sim.silence_sensor(sensor_id)
    return _sensor(ctx, sensor_id)[1]


@router.delete("/sensors/{sensor_id}/silence")
def unsilence(sensor_id: SensorId, ctx: Ctx, who: SimHands) -> SimSensorOut:
    """The sensor answers again."""
    sim, _ = _sensor(ctx, sensor_id)
    sim.silence_sensor(sensor_id, silent=False)
    return _sensor(ctx, sensor_id)[1]


# Declared last: its {hand} would otherwise catch .../fault.
@router.post("/doors/{compartment_id}/{hand}")
def use_door(compartment_id: CompartmentNo, hand: Hand, ctx: Ctx, who: SimHands) -> SimDoorOut:
    """A hand at the door: ``open`` (an unlatched door), ``close``, ``put`` or ``take``."""
    sim = _sim(ctx, compartment_id)
    {"open": sim.open, "close": sim.close, "put": sim.put, "take": sim.take}[hand](compartment_id)
    return _door(sim, compartment_id)
