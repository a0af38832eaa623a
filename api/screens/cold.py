"""The cooled compartments on the maintenance screen: each cold group's temperature, its
band, where it stands and its last day as a small chart (inline SVG drawn here, see
:mod:`common.cold_chart`), refreshed every half minute."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.screens.i18n import Words
from api.screens.render import language, render
from api.screens.sessions import screen_role
from api.security import Ctx
from common.cold_chart import Point, cold_chart
from locker.cold.views import cold_views
from locker.people.identity import Principal
from locker.types import Role

router = APIRouter(prefix="/staff", include_in_schema=False)
StaffUser = Annotated[Principal, Depends(screen_role("/staff", Role.STAFF))]
COLD_LIVE_S = 30


def cold_panel(ctx: Ctx, words: Words) -> list[dict[str, Any]]:
    """What the template draws for each cold group (empty: the station has none)."""
    station = ctx.station
    now = station.now()
    with station.db.read() as session:
        views = cold_views(session, station.layout, now)
    shown = []
    for view in views:
        group = view.group
        band = group.band.text()
        label = words("staff_cold_chart", group=group.id, band=band)
        points = [Point(m.at, m.mean_c) for m in view.day]
        svg = cold_chart(points, now=now, band=(group.min_c, group.max_c), label=label)
        shown.append(
            {
                "id": group.id,
                "kind": group.kind.value,
                "band": band,
                "status": view.status.value,
                "since": view.since,
                "celsius": None if view.last_c is None else f"{view.last_c:.1f}",
                "compartments": ", ".join(str(c) for c in view.compartments),
                "chart": Markup(svg),  # noqa: S704 (built by cold_chart, every text escaped)
            }
        )
    return shown


@router.get("/cold", response_class=HTMLResponse)
def cold(request: Request, ctx: Ctx, who: StaffUser) -> HTMLResponse:
    """The cold groups alone, polled by the station page."""
    words = Words(language(request))
    return render(request, "staff_cold.html", cold=cold_panel(ctx, words), cold_live_s=COLD_LIVE_S)
