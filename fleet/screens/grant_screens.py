"""The admins' screen of central staff: grants of a station to an operator, given and
revoked (each one a signed command the station checks)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from fleet import grants
from fleet.hub import Hub
from fleet.screens.pages import GRANT_DAYS, ScreenRole, render, words_for
from fleet.tables import Operator, Station

AsAdmin = Annotated[Operator, Depends(ScreenRole("admin"))]


def add_grant_screens(screens: FastAPI, hub: Hub) -> None:
    """Add ``/grants`` (the list, giving, revoking) to the operators' screens."""

    def _grants_values() -> dict[str, Any]:
        with hub.db.transaction() as session:
            return {
                "grants": grants.listed(session),
                "operators": session.exec(select(Operator.name).order_by(col(Operator.name))).all(),
                "stations": session.exec(select(Station.name).order_by(col(Station.name))).all(),
                "now": hub.clock(),
                "grant_days": GRANT_DAYS,
            }

    @screens.get("/grants", response_class=HTMLResponse)
    def grants_page(request: Request, who: AsAdmin) -> HTMLResponse:
        return render(request, "fleet_grants.html", who=who, section="grants", **_grants_values())

    @screens.post("/grants", response_class=HTMLResponse)
    async def give_grants(request: Request, who: AsAdmin) -> HTMLResponse:
        form = await request.form()
        operator = str(form.get("operator", ""))[:64]
        chosen = [str(s)[:40] for s in form.getlist("station")][:500]
        try:
            days = max(1, min(grants.MAX_DAYS, int(str(form.get("days", GRANT_DAYS)))))
        except ValueError:
            days = GRANT_DAYS
        words = words_for(request)
        if not chosen:
            return render(
                request,
                "fleet_grants_list.html",
                status=422,
                said=words("pick_station"),
                good=False,
                **_grants_values(),
            )
        now = hub.clock()
        sent = []
        with hub.db.transaction() as session:
            for station_name in chosen:
                sent.append(
                    grants.give(
                        session,
                        operator=operator,
                        station=station_name,
                        until=now + timedelta(days=days),
                        by=who.name,
                        now=now,
                    )
                )
        for command in sent:
            hub.publish(command)
        return render(
            request,
            "fleet_grants_list.html",
            said=words("granted", n=len(sent)),
            good=True,
            **_grants_values(),
        )

    @screens.get("/grants/list", response_class=HTMLResponse)
    def grants_list(request: Request, who: AsAdmin) -> HTMLResponse:
        return render(request, "fleet_grants_list.html", **_grants_values())

    @screens.post("/grants/{grant_id}/revoke", response_class=HTMLResponse)
    def revoke_grant(request: Request, grant_id: str, who: AsAdmin) -> HTMLResponse:
        with hub.db.transaction() as session:
            command = grants.revoke(session, grant_id, by=who.name, now=hub.clock())
        hub.publish(command)
        return render(request, "fleet_grants_list.html", said="", good=True, **_grants_values())
