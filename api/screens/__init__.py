"""The station's screens: the kiosk, the courier's and the maintenance screens, and the
simulator's doors. Server-rendered (Jinja2), with htmx for the live parts.

Their routes are built on the first request that reaches them (:mod:`api.screens.lazy`):
a start serves the API without importing them (issue 29, the small computer's budget).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

from api.context import StationContext
from api.screens.headers import ScreenHeaders
from api.screens.lazy import LazyRoutes
from api.screens.render import STATIC_DIR
from api.screens.sessions import SignInNeeded, sign_in_needed_answer
from common.assets import mount_common


def install(app: FastAPI, ctx: StationContext) -> None:
    app.add_middleware(ScreenHeaders)
    mount_common(app, "/static")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(SignInNeeded, sign_in_needed_answer)
    simulated = ctx.sim is not None
    screens = LazyRoutes(lambda: routes(simulated=simulated))
    app.router.routes.append(screens)  # last, where the screens' routers were included
    app.state.screens = screens


def routes(*, simulated: bool) -> list[BaseRoute]:
    """Every screen's routes, in their order (the simulator's only on a simulated
    station)."""
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
    from api.screens.home import home

    router = APIRouter(include_in_schema=False)
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
        router.include_router(module.router)
    router.include_router(people.router)  # issue 17: a person's data (staff)
    router.include_router(directory_screens.router)  # the directory (issue 17)
    if simulated:  # loaded only on a simulated station
        from api.screens import sim_sensors, simulator

        router.include_router(simulator.router)
        router.include_router(sim_sensors.router)
    router.include_router(home)
    return router.routes


def expanded(found: Sequence[BaseRoute]) -> list[BaseRoute]:
    """``found`` (an app's routes) with the screens' routes in the place of the stand-in
    that builds them: every route the app serves, e.g. to check each one's access."""
    out: list[BaseRoute] = []
    for route in found:
        out.extend(route.routes if isinstance(route, LazyRoutes) else [route])
    return out
