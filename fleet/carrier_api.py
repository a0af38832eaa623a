"""The carriers' API on the hub (``/api/v1/carrier/…``): announce parcels to any station
of the fleet the carrier may use, by name or to the best one, and see each
announcement's one state (:mod:`fleet.carrier_state`). Every route needs a carrier's
bearer token (:class:`NeedsCarrier`); what a carrier sees is its own. The routing:
:mod:`fleet.routing`; the webhook stream: :mod:`fleet.carrier_stream`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from common.problems import openapi_responses
from fleet import carrier_state, carriers, routing
from fleet.carrier_state import CarrierState
from fleet.errors import NotAuthenticated, NotFound
from fleet.routing import AnnouncementRequest
from fleet.tables import (
    CarrierAccount,
    CarrierAnnouncement,
    CommandRow,
    ParcelView,
    StationPlace,
    StationState,
)

_BEARER = HTTPBearer(auto_error=False)


class NeedsCarrier:
    """The dependency of every carrier route; the role test finds it on each route."""

    role = "carrier"

    def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> CarrierAccount:
        if credentials is None:
            raise NotAuthenticated("A carrier's bearer token is needed (locker hub carrier add).")
        return carriers.authenticate(request.app.state.hub.db, credentials.credentials)


CARRIER = NeedsCarrier()
AsCarrier = Annotated[CarrierAccount, Depends(CARRIER)]


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    text = {403: "Not a station of this carrier", 404: "Not found", 409: "No room"}
    return openapi_responses({s: text[s] for s in statuses})


class StationOut(BaseModel):
    name: str
    address: str
    opening_hours: str
    postcode: str
    latitude: float | None
    longitude: float | None


class StationRoom(StationOut):
    online: bool
    free: dict[str, int]  # per size: what the station reported, less pending announcements
    accessible_free: dict[str, int]
    cold_free: dict[str, dict[str, int]] = {}  # per cold kind the station has, per size


class ProblemOut(BaseModel):
    code: str
    detail: str


class AnnouncementOut(BaseModel):
    tracking_number: str
    state: CarrierState = Field(
        description="where the parcel is, one of: sent_to_station (not answered yet), "
        "refused (see problem), announced (the station expects it), in_locker (for its "
        "recipient, by deadline), waiting_for_courier (not collected in time: to take "
        "back), collected, returned, lapsed (never brought in; the station no longer "
        "expects it). The webhooks tell of the changes."
    )
    detail: str = Field(description="the state in a sentence, for a person")
    since: datetime = Field(description="when it came into this state")
    station: StationOut
    compartment: int | None = Field(
        description="in_locker, waiting_for_courier, or while a courier puts it in"
    )
    deadline: datetime | None = Field(description="in_locker: its recipient may collect it until")
    problem: ProblemOut | None = Field(description="refused: the station's code and reason")
    parcel_id: int | None = Field(description="the parcel's id at the station")
    command_id: str
    announced_at: datetime


def _station(session: Session, name: str) -> StationOut:
    place = session.get(StationPlace, name) or StationPlace(station=name)
    return StationOut(
        name=name,
        address=place.address,
        opening_hours=place.opening_hours,
        postcode=place.postcode,
        latitude=place.latitude,
        longitude=place.longitude,
    )


def _out(session: Session, row: CarrierAnnouncement) -> AnnouncementOut:
    command = session.get_one(CommandRow, row.command_id)
    parcel_id = row.parcel_id
    if parcel_id is None and command.result and "parcel_id" in command.result:
        parcel_id = int(command.result["parcel_id"])
    view = session.get(ParcelView, (row.station, parcel_id)) if parcel_id is not None else None
    now = carrier_state.seen(row, command, view)
    return AnnouncementOut(
        tracking_number=row.tracking_number,
        state=now.state,
        detail=now.detail,
        since=now.since,
        station=_station(session, row.station),
        compartment=now.compartment,
        deadline=now.deadline,
        problem=ProblemOut(code=command.problem_code, detail=command.problem_detail or "")
        if command.problem_code
        else None,
        parcel_id=parcel_id,
        command_id=row.command_id,
        announced_at=row.announced_at,
    )


router = APIRouter(prefix="/api/v1/carrier", tags=["carriers"])


@router.get("/stations")
def my_stations(request: Request, carrier: AsCarrier) -> list[StationRoom]:
    """The stations this carrier may use: where they are, when they open, their room."""
    with request.app.state.hub.db.transaction() as session:
        out = []
        for name in routing.allowed_stations(session, carrier.name):
            state = session.get(StationState, name)
            sizes = routing.SIZES
            out.append(
                StationRoom(
                    **_station(session, name).model_dump(),
                    online=bool(state and state.online),
                    free={s: max(0, routing.room(session, name, s, False)) for s in sizes},
                    accessible_free={
                        s: max(0, routing.room(session, name, s, True)) for s in sizes
                    },
                    cold_free={
                        kind: {
                            s: max(0, routing.room(session, name, s, False, kind)) for s in sizes
                        }
                        for kind in sorted((state.cold_free or {}) if state else {})
                    },
                )
            )
        return out


@router.post(
    "/announcements",
    status_code=202,
    responses={
        200: {"model": AnnouncementOut, "description": "Announced before: that announcement"},
        **_problems(403, 404, 409),
    },
)
def announce(
    body: AnnouncementRequest, request: Request, response: Response, carrier: AsCarrier
) -> AnnouncementOut:
    """Announce a parcel: to ``station``, or to the best station for the recipient (see
    docs/fleet-hub.md). The answer names the station, its address and opening hours; the
    station's own answer follows (``GET …/announcements/{tracking_number}``). The same
    tracking number again gives the first announcement (200), unless it was refused or
    lapsed (then it is routed anew)."""
    hub = request.app.state.hub
    with hub.db.transaction() as session:
        row, command = routing.announce(session, carrier.name, body, hub.clock())
        out = _out(session, row)
    if command is None:
        response.status_code = 200
    else:
        hub.publish(command)  # after the commit: a station never answers an unknown command
    return out


@router.get("/announcements/{tracking_number}", responses=_problems(404))
def announcement(
    tracking_number: Annotated[str, Path(min_length=1, max_length=100, pattern=carriers.TEXT)],
    request: Request,
    carrier: AsCarrier,
) -> AnnouncementOut:
    """An announcement's one ``state`` (where its parcel is: ``sent_to_station``,
    ``refused``, ``announced``, ``in_locker``, ``waiting_for_courier``, ``collected``,
    ``returned``, ``lapsed``) with a sentence (``detail``), ``since``, the station, and
    its ``compartment`` and ``deadline`` while it is in one."""
    with request.app.state.hub.db.transaction() as session:
        row = session.get(CarrierAnnouncement, (carrier.name, tracking_number))
        if row is None:
            raise NotFound("announcement", tracking_number)
        return _out(session, row)


@router.get("/announcements")
def announcements(request: Request, carrier: AsCarrier) -> list[AnnouncementOut]:
    """This carrier's newest announcements (up to 100)."""
    with request.app.state.hub.db.transaction() as session:
        rows = session.exec(
            select(CarrierAnnouncement)
            .where(CarrierAnnouncement.carrier == carrier.name)
            .order_by(col(CarrierAnnouncement.announced_at).desc())
            .limit(100)
        ).all()
        return [_out(session, row) for row in rows]
