"""The operators' screen of the fleet hub, under ``/fleet/``: every station on one page
(redrawn live by htmx polling, with a filter and a sort), a station's page (its front drawn
from the layout it reported, its alerts, events, parcels and the commands given to it),
central staff grants and the hub's audit log. English and German; usable by keyboard.

Operators sign in with their hub accounts (:mod:`fleet.accounts`): the session is an
operator token in an HttpOnly, SameSite=Strict cookie; every change also needs the
``X-CSRF-Token`` header, which ``common/static/csrf.js`` copies from a second cookie holding a value
derived from the session (only pages of the hub can read it); signing in, and what keeps
other sites out (Origin, Sec-Fetch-Site, the sign-in form's own CSRF value), are in
:mod:`fleet.screens.sign_in`. Every route declares the
role it needs (:class:`~fleet.screens.pages.ScreenRole`); what every page uses is in
:mod:`fleet.screens.pages`. Actions travel as the hub's signed commands, each
audited with the operator's name; none opens a door (there is no such command).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sqlmodel import col, select

from common.assets import mount_common
from fleet import commands, grants, guard
from fleet.errors import FleetError, NotFound
from fleet.hub import Hub
from fleet.problems import install_problems
from fleet.screens import list_views, sign_in, station_map, views
from fleet.screens.cold import cold_groups
from fleet.screens.grant_screens import add_grant_screens
from fleet.screens.pages import (
    EXTEND_DAYS,
    HEADERS,
    HOME,
    PACKAGE,
    ScreenRole,
    SignInNeeded,
    front_of,
    operator_of,
    render,
    said_fragment,
    status_words,
    words_for,
)
from fleet.tables import HubAudit, Operator, ParcelView
from locker.uplink.command_args import MAX_INT
from locker.uplink.grants import CENTRAL_PREFIX
from locker.uplink.messages import Command

Text = Annotated[str, Form(max_length=500)]
RowId = Annotated[int, Path(ge=1, le=MAX_INT)]  # a compartment or parcel number, as a command


AsOperator = Annotated[Operator, Depends(ScreenRole("operator"))]
AsAdmin = Annotated[Operator, Depends(ScreenRole("admin"))]


def create_screens(hub: Hub) -> FastAPI:
    """The screen as an app of its own, mounted at ``/fleet`` by :func:`fleet.app.create_app`."""
    screens = FastAPI(
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # every route: no text a person cannot see (fleet/guard.py), no post from elsewhere
        dependencies=[Depends(guard.printable_fields), Depends(sign_in.same_origin)],
    )
    screens.state.hub = hub
    install_problems(screens)  # invalid input is a problem here too; FleetError is below
    mount_common(screens, "/static")
    screens.mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static")

    @screens.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, _exc: SignInNeeded) -> Response:
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": HOME})
        return RedirectResponse(HOME, status_code=303)

    @screens.exception_handler(FleetError)
    async def _refused(request: Request, exc: FleetError) -> Response:
        return said_fragment(
            request,
            words_for(request)("problem", detail=exc.message),
            good=False,
            status=exc.status,
        )

    # -- signing in -------------------------------------------------------------------

    @screens.get("/", response_class=HTMLResponse)
    def fleet_page(request: Request) -> HTMLResponse:
        who = operator_of(request, "operator")
        if who is None:
            return sign_in.sign_in_page(request)
        return _fleet(request, who)

    sign_in.install(screens, hub)

    # -- every station ----------------------------------------------------------------

    def _fleet(request: Request, who: Operator) -> HTMLResponse:
        q, show, sort = _filters(request)
        values, _etag = _list(request, q, show, sort)
        return render(
            request,
            "fleet.html",
            who=who,
            section="fleet",
            shows=views.SHOWS,
            sorts=views.SORTS,
            **values,
        )

    def _filters(request: Request) -> tuple[str, str, str]:
        q = request.query_params.get("q", "")[:40]
        show = request.query_params.get("show", "all")
        sort = request.query_params.get("sort", "name")
        return q, show if show in views.SHOWS else "all", sort if sort in views.SORTS else "name"

    def _list(request: Request, q: str, show: str, sort: str) -> tuple[dict[str, Any], str]:
        """The summary and one page of rows, and their version (an ETag): what the list's
        live update asks for, one small request whatever the number of stations."""
        try:
            number = max(1, min(int(request.query_params.get("page", "1")), 1_000_000))
        except ValueError:
            number = 1
        now = hub.clock()
        words = words_for(request)
        with hub.db.transaction() as session:
            summary = list_views.fleet_summary(session)
            page = list_views.rows_page(session, now, text=q, show=show, sort=sort, page=number)
        statuses = {r.name: status_words(r, words, now, coarse=True) for r in page.rows}
        version = repr((summary, page, statuses, words.lang, q, show, sort))
        etag = '"' + hashlib.sha256(version.encode()).hexdigest()[:32] + '"'
        values = {
            "summary": summary,
            "rows_page": page,
            "rows": page.rows,
            "statuses": statuses,
            "etag": etag,
            "q": q,
            "show": show,
            "sort": sort,
        }
        return values, etag

    @screens.get("/rows", response_class=HTMLResponse)
    def rows(request: Request, who: AsOperator) -> Response:
        """The summary and the page of rows, polled every few seconds with the filter's
        values and the version the page has (``If-None-Match``): 304 when nothing changed."""
        q, show, sort = _filters(request)
        values, etag = _list(request, q, show, sort)
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={**HEADERS, "ETag": etag})
        answer = render(request, "fleet_list.html", **values)
        answer.headers["ETag"] = etag
        return answer

    @screens.get("/map", response_class=HTMLResponse)
    def stations_map(request: Request, who: AsOperator) -> HTMLResponse:
        """Every station with coordinates on a map drawn here (inline SVG, no tiles)."""
        words = words_for(request)
        with hub.db.transaction() as session:
            dots = list_views.map_dots(session)
        drawn = station_map.draw(
            dots,
            label=words("map"),
            titles={s: words(f"map_{s}") for s in ("online", "attention", "offline")},
        )
        return render(request, "fleet_map.html", drawn=drawn)

    # -- one station ------------------------------------------------------------------

    def _page_values(request: Request, name: str, who: Operator) -> dict[str, Any]:
        now = hub.clock()
        words = words_for(request)
        with hub.db.transaction() as session:
            page = views.station_page(session, name, now, hub.settings.recent_events)
            if page is None:
                raise NotFound("station", name)
            cold = cold_groups(session, name, now, words("cold_chart"))  # issue 27
            may_pass = any(
                g.live(now) and g.state == "ok"
                for g in grants.listed(session, operator=who.name, station=name)
            )
        return {
            "name": name,
            "page": page,
            "front": front_of(page.layout, page, words),
            "status_text": status_words(page.row, words, now),
            "event_text": views.event_text,
            "shown_args": commands.shown_args,  # no signature, the recipient's initials
            "may_pass": may_pass,
            "cold": cold,
            "central_name": CENTRAL_PREFIX + who.name,
            "extend_days": EXTEND_DAYS,
            "who": who,
        }

    @screens.get("/stations/{name}", response_class=HTMLResponse)
    def station(request: Request, name: str, who: AsOperator) -> HTMLResponse:
        values = _page_values(request, name, who)
        return render(request, "fleet_station.html", section="fleet", **values)

    @screens.get("/stations/{name}/live", response_class=HTMLResponse)
    def station_live(request: Request, name: str, who: AsOperator) -> HTMLResponse:
        return render(request, "fleet_station_live.html", **_page_values(request, name, who))

    def _panel(
        request: Request, name: str, cid: int, who: Operator, *, status: int = 200, **more: Any
    ) -> HTMLResponse:
        """A compartment's panel as it stands now: its state, and whether a command given
        from it waits for the station's answer (then its buttons wait too, and it polls)."""
        values = _page_values(request, name, who)
        page: views.StationPage = values["page"]
        view = page.compartments.get(cid)
        if view is None:
            raise NotFound("compartment", cid)
        parcel = next((p for p in page.parcels if p.compartment_id == cid), None)
        shown = page.states.get(cid, view.state)
        return render(
            request,
            "fleet_compartment.html",
            status=status,
            view=view,
            shown=shown,
            parcel=parcel,
            pending=views.pending_for(page, cid),
            **values,
            **more,
        )

    @screens.get("/stations/{name}/compartments/{cid}", response_class=HTMLResponse)
    def compartment(request: Request, name: str, cid: RowId, who: AsOperator) -> HTMLResponse:
        return _panel(request, name, cid, who)

    def _command(
        request: Request, station: str, kind: Any, args: Any, who: Operator
    ) -> Command | None:
        """Record, audit and publish a command; a compartment's command while one of its
        own still waits for the station is not given twice (None)."""
        now = hub.clock()
        with hub.db.transaction() as session:
            cid = getattr(args, "compartment_id", None)
            if cid is not None and views.waiting_command(session, station, cid) is not None:
                return None
            command = commands.issue(session, station, kind, args, by=who.name, now=now)
            detail = f"{command.id}: {kind} {command.args}"
            grants.audit(session, now, who.name, f"command.{kind}", station, detail)
        hub.publish(command)  # after the commit, as the API does
        return command

    def _give(
        request: Request, station: str, kind: Any, args: Any, who: Operator, what: str
    ) -> HTMLResponse:
        _command(request, station, kind, args, who)
        return said_fragment(
            request, words_for(request)("sent_command", what=what), good=True, status=202
        )

    def _give_from_panel(
        request: Request, station: str, cid: int, kind: Any, args: Any, who: Operator, what: str
    ) -> HTMLResponse:
        """A compartment's command from its panel: the panel comes back with the state
        (the command pending, its buttons waiting) and the message beside."""
        given = _command(request, station, kind, args, who)
        said = words_for(request)("sent_command" if given else "pending", what=what)
        try:
            return _panel(request, station, cid, who, status=202, said=said, good=True)
        except NotFound:  # a compartment the station has not reported yet: the command went
            return said_fragment(request, said, good=True, status=202)

    def _reason(request: Request, text: str) -> str:
        if not text.strip():
            raise _NoReason(words_for(request)("reason_needed"))
        return text.strip()

    @screens.post("/stations/{name}/compartments/{cid}/out-of-service", response_class=HTMLResponse)
    def take_out(
        request: Request, name: str, cid: RowId, who: AsOperator, reason: Text = ""
    ) -> HTMLResponse:
        args = commands.OutOfServiceArgs(compartment_id=cid, reason=_reason(request, reason))
        what = f"{words_for(request)('take_out')}: {words_for(request)('compartment_n', n=cid)}"
        return _give_from_panel(request, name, cid, "out_of_service", args, who, what)

    @screens.post(
        "/stations/{name}/compartments/{cid}/back-in-service", response_class=HTMLResponse
    )
    def put_back(
        request: Request, name: str, cid: RowId, who: AsOperator, note: Text = ""
    ) -> HTMLResponse:
        args = commands.BackInServiceArgs(compartment_id=cid, note=note.strip())
        what = f"{words_for(request)('put_back')}: {words_for(request)('compartment_n', n=cid)}"
        return _give_from_panel(request, name, cid, "back_in_service", args, who, what)

    @screens.post("/stations/{name}/parcels/{pid}/extend", response_class=HTMLResponse)
    def extend(request: Request, name: str, pid: RowId, who: AsOperator) -> HTMLResponse:
        now = hub.clock()
        with hub.db.transaction() as session:
            parcel = session.get(ParcelView, (name, pid))
            if parcel is None:
                raise NotFound("parcel", pid)
            try:  # a deadline the station reported near the year 9999 has no 3 days more
                until = max(parcel.deadline or now, now) + timedelta(days=EXTEND_DAYS)
                args = commands.ExtendArgs(parcel_id=pid, until=until.replace(microsecond=0))
            except (OverflowError, ValidationError):
                raise _NoReason(words_for(request)("cannot_extend")) from None
        what = f"{words_for(request)('extend', d=EXTEND_DAYS)}: {parcel.tracking_number}"
        return _give(request, name, "extend", args, who, what)

    @screens.post("/stations/{name}/revoke-courier", response_class=HTMLResponse)
    def revoke_courier(
        request: Request,
        name: str,
        who: AsOperator,
        courier: Annotated[str, Form(max_length=100)] = "",
    ) -> HTMLResponse:
        args = commands.RevokeCourierArgs(name=_reason(request, courier))
        return _give(
            request,
            name,
            "revoke_courier",
            args,
            who,
            f"{words_for(request)('revoke_courier')}: {courier}",
        )

    @screens.post("/stations/{name}/pass", response_class=HTMLResponse)
    def station_pass(request: Request, name: str, who: AsOperator) -> HTMLResponse:
        """A one-time pass for this station's maintenance screen (needs a live grant)."""
        with hub.db.transaction() as session:
            made = grants.station_pass(session, operator=who.name, station=name, now=hub.clock())
        return render(
            request,
            "fleet_pass.html",
            made=made,
            station=name,
            central_name=CENTRAL_PREFIX + who.name,
        )

    add_grant_screens(screens, hub)

    # -- the hub's audit log ----------------------------------------------------------

    @screens.get("/audit", response_class=HTMLResponse)
    def audit(request: Request, who: AsOperator) -> HTMLResponse:
        with hub.db.transaction() as session:
            entries = session.exec(
                select(HubAudit).order_by(col(HubAudit.id).desc()).limit(200)
            ).all()
        return render(request, "fleet_audit.html", who=who, section="audit", entries=entries)

    @screens.exception_handler(_NoReason)
    async def _no_reason(request: Request, exc: _NoReason) -> Response:
        return said_fragment(request, str(exc), good=False, status=422)

    return screens


class _NoReason(Exception):
    """An action refused for what it was given: no reason (or name), no later deadline."""
