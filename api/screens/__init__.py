"""The station's screens: the kiosk, the courier's and the maintenance screens, and the
simulator's doors. Server-rendered (Jinja2), with htmx for the live parts."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.context import StationContext
from api.screens import (
    cold,
    courier,
    courier_announced,
    extend,
    kiosk,
    kiosk_card,
    orders,
    pay,
    people,
    staff,
    staff_codes,
    staff_money,
    staff_records,
)
from api.screens import directory as directory_screens  # the directory (issue 17)
from api.screens.headers import ScreenHeaders
from api.screens.render import STATIC_DIR, render
from api.screens.sessions import SignInNeeded, sign_in_needed_answer
from common.assets import mount_common

home = APIRouter(include_in_schema=False)


@home.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """Where each screen is."""
    return render(request, "index.html", simulated=request.app.state.ctx.sim is not None)


@home.get("/favicon.ico")
def favicon() -> FileResponse:
    """For browsers and pages (the API docs) that ask the default place for the icon."""
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


def install(app: FastAPI, ctx: StationContext) -> None:
    app.add_middleware(ScreenHeaders)
    mount_common(app, "/static")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(SignInNeeded, sign_in_needed_answer)
    for module in (
        kiosk,
        kiosk_card,
        courier,
        courier_announced,
        orders,
        staff,
        staff_records,
        staff_codes,
        extend,
        cold,
        pay,
        staff_money,
    ):
        app.include_router(module.router)
    app.include_router(people.router)  # issue 17: a person's data (staff)
    app.include_router(directory_screens.router)  # the directory (issue 17)
    if ctx.sim is not None:  # loaded only on a simulated station
        from api.screens import sim_sensors, simulator

        app.include_router(simulator.router)
        app.include_router(sim_sensors.router)
    app.include_router(home)
