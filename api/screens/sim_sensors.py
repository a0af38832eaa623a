"""The simulated thermometers on the simulator's screen (only on a simulated station):
what each XY-MD02 reads, the cold group it watches and where that group stands; warm it
out of its band, cool it back, set a temperature, or make it fall silent, so a newcomer
can watch a fridge go out of band and back with ``make run`` alone. Like the doors' hands,
only for staff."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse

from api.problems import ProblemError
from api.screens.render import render
from api.screens.sessions import screen_role
from api.security import Ctx
from locker.cold.groups import ColdGroup
from locker.cold.tables import ColdGroupState
from locker.people.identity import Principal
from locker.types import Role
from sim.faults import Fault
from sim.station import SimStation

router = APIRouter(prefix="/sim/sensors", include_in_schema=False)
StaffUser = Annotated[Principal, Depends(screen_role("/sim", Role.STAFF))]
SensorId = Annotated[str, Path(min_length=1, max_length=64)]
Celsius = Annotated[float, Form(ge=-60, le=80)]
LIVE_S = 2
WARM_ABOVE_C = 4.0  # "warm up": this far past the band's top (or bottom, for a floor only)


def warm_c(group: ColdGroup) -> float:
    """A reading well out of the group's band: a fridge whose door stayed open."""
    if group.max_c is not None:
        return group.max_c + WARM_ABOVE_C
    return (group.min_c or 0.0) - WARM_ABOVE_C


def cool_c(group: ColdGroup) -> float:
    """A reading inside the band: its middle, or 2 °C inside its only bound."""
    if group.min_c is not None and group.max_c is not None:
        return (group.min_c + group.max_c) / 2
    if group.max_c is not None:
        return group.max_c - 2
    return (group.min_c or 0.0) + 2


def _sim(ctx: Ctx, sensor_id: str | None = None) -> SimStation:
    if ctx.sim is None:
        raise ProblemError(404, "not_found", "This station runs on real boards.")
    if sensor_id is not None and sensor_id not in {s.id for s in ctx.station.layout.sensors}:
        raise ProblemError(404, "sensor_not_found", f"sensor {sensor_id!r} does not exist")
    return ctx.sim


def _silent(sim: SimStation, bus: str, address: int) -> bool:
    return any(i.fault is Fault.GONE and i.board == address for i in sim.buses[bus].faults.active())


def sensors_panel(ctx: Ctx) -> list[dict[str, Any]]:
    """What the template draws for each simulated thermometer (empty: none in the layout)."""
    if ctx.sim is None:
        return []
    sim = ctx.sim
    layout = ctx.station.layout
    with ctx.station.db.read() as session:
        states = {g.id: session.get(ColdGroupState, g.id) for g in layout.cold_groups}
    shown = []
    for spec in layout.sensors:
        groups = [g for g in layout.cold_groups if g.sensor == spec.id]
        group = groups[0] if groups else None
        state = states.get(group.id) if group is not None else None
        shown.append(
            {
                "id": spec.id,
                "bus": spec.bus,
                "address": spec.address,
                "celsius": f"{sim.temperature(spec.id):.1f}",
                "silent": _silent(sim, spec.bus, spec.address),
                "group": None if group is None else group.id,
                "kind": None if group is None else group.kind.value,
                "band": None if group is None else group.band.text(),
                "status": "unknown" if state is None else state.status,
                "compartments": ""
                if group is None
                else ", ".join(str(c.id) for c in layout.in_group(group.id)),
                "warm_c": None if group is None else f"{warm_c(group):g}",
                "cool_c": None if group is None else f"{cool_c(group):g}",
            }
        )
    return shown


def _panel(request: Request, ctx: Ctx) -> HTMLResponse:
    minutes = ctx.settings.cold_out_of_band_minutes
    return render(
        request,
        "sim_sensors.html",
        sensors=sensors_panel(ctx),
        sensors_live_s=LIVE_S,
        after_min=f"{minutes:g}",
    )


def _group_of(ctx: Ctx, sensor_id: str) -> ColdGroup | None:
    return next((g for g in ctx.station.layout.cold_groups if g.sensor == sensor_id), None)


@router.get("", response_class=HTMLResponse)
def panel(request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    _sim(ctx)
    return _panel(request, ctx)


@router.post("/{sensor_id}", response_class=HTMLResponse)
def set_temperature(
    sensor_id: SensorId, request: Request, ctx: Ctx, who: StaffUser, celsius: Celsius
) -> HTMLResponse:
    _sim(ctx, sensor_id).set_temperature(sensor_id, celsius)
    return _panel(request, ctx)


@router.post("/{sensor_id}/warm", response_class=HTMLResponse)
def warm(sensor_id: SensorId, request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    sim = _sim(ctx, sensor_id)
    group = _group_of(ctx, sensor_id)
    sim.set_temperature(sensor_id, warm_c(group) if group is not None else 12.0)
    return _panel(request, ctx)


@router.post("/{sensor_id}/cool", response_class=HTMLResponse)
def cool(sensor_id: SensorId, request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    sim = _sim(ctx, sensor_id)
    group = _group_of(ctx, sensor_id)
    sim.set_temperature(sensor_id, cool_c(group) if group is not None else 5.0)
    return _panel(request, ctx)


@router.post("/{sensor_id}/silence", response_class=HTMLResponse)
def silence(sensor_id: SensorId, request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    _sim(ctx, sensor_id).silence_sensor(sensor_id)
    return _panel(request, ctx)


@router.post("/{sensor_id}/answer", response_class=HTMLResponse)
def answer(sensor_id: SensorId, request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    _sim(ctx, sensor_id).silence_sensor(sensor_id, silent=False)
    return _panel(request, ctx)
