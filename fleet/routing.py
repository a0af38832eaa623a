"""Routing a carrier's announcement (:func:`announce`): to the station named, or to the best
one of those the carrier may use; the announcement then goes to it as a signed command.

Only stations online with room for the parcel's size (and a low compartment, if the
recipient needs one; a compartment of its cold kind, if it is chilled or frozen) are
candidates; room is the free capacity the station last reported less the hub's own
announcements to it not yet in a compartment. A cold parcel counts only the free
compartments of its kind (a station reports none free for a group out of its band); an
ambient one never counts frozen ones (it never goes into a freezer). Then the nearest:
great-circle distance when the station and the recipient have coordinates; else, with
postcodes, the same postcode first, then the longest common leading part; then the most
room; then the name. Announcements are routed one at a time (an advisory lock), so two at
once never take the last compartment twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet import commands
from fleet.carriers import TEXT, Size
from fleet.errors import FleetError, NotFound
from fleet.tables import (
    CarrierAnnouncement,
    CarrierStation,
    CommandRow,
    Station,
    StationPlace,
    StationState,
)
from locker.payments.amounts import MAX_CENTS
from locker.uplink.messages import STATION_NAME, Command

ROUTING_LOCK = 0x6361727269657273  # "carriers": announcements are routed one at a time


SIZES = ("S", "M", "L", "XL")


EARTH_RADIUS_KM = 6371.0


class NoStationFits(FleetError):
    code = "no_station_fits"
    status = 409


class StationFull(FleetError):
    code = "station_full"
    status = 409


class StationNotAllowed(FleetError):
    code = "station_not_allowed"
    status = 403


class AnnouncementRequest(BaseModel):
    """A parcel to announce: to ``station``, or (without it) to the best station. Text is
    taken without the blanks around it, as the station takes the command it becomes."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    tracking_number: str = Field(min_length=1, max_length=100, pattern=TEXT)
    size: Size
    recipient_name: str = Field(min_length=1, max_length=200, pattern=TEXT)
    recipient_email: str | None = Field(default=None, max_length=254, pattern=TEXT)
    recipient_phone: str | None = Field(default=None, max_length=40, pattern=TEXT)
    recipient_language: Literal["en", "de"] = "en"
    accessible: bool = Field(default=False, description="the recipient needs a low compartment")
    cold: Literal["chilled", "frozen"] | None = Field(
        default=None,
        description="chilled or frozen goods: only a station with a free compartment of that "
        "kind (in its temperature band) takes it",
    )
    amount_due: int | None = Field(
        default=None, ge=0, le=MAX_CENTS, strict=True, description="cents to pay at pick-up"
    )
    station: str | None = Field(
        default=None,
        max_length=40,
        pattern="^" + STATION_NAME.pattern + "$",
        description="announce to this station; without it the hub picks the best one",
    )
    recipient_postcode: str | None = Field(default=None, min_length=1, max_length=16, pattern=TEXT)
    recipient_latitude: float | None = Field(default=None, ge=-90, le=90)
    recipient_longitude: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _both_coordinates(self) -> AnnouncementRequest:
        if (self.recipient_latitude is None) != (self.recipient_longitude is None):
            raise ValueError("give both recipient_latitude and recipient_longitude, or neither")
        return self


@dataclass(frozen=True)
class Candidate:
    station: str
    room: int
    distance_km: float | None
    shared_postcode: int  # leading characters in common with the recipient's postcode


def allowed_stations(session: Session, carrier: str) -> list[str]:
    return list(
        session.exec(
            select(CarrierStation.station)
            .where(CarrierStation.carrier == carrier)
            .order_by(col(CarrierStation.station))
        ).all()
    )


def room(
    session: Session, station: str, size: str, accessible: bool, cold: str | None = None
) -> int:
    """Free compartments of ``size`` the station reported, less the hub's announcements
    to it of that size not yet in a compartment (not answered, announced or reserved).
    For a recipient who needs a low one, the least of that count among the low ones and
    the count over all (the others' parcels may take low ones too). For a cold parcel,
    the free ones of its kind less the announcements of that kind."""
    state = session.get(StationState, station)
    if state is None:
        return 0
    pending = (
        select(func.count())
        .select_from(CarrierAnnouncement)
        .join(CommandRow, col(CarrierAnnouncement.command_id) == col(CommandRow.id))
        .where(
            CarrierAnnouncement.station == station,
            CarrierAnnouncement.size == size,
            CommandRow.state != "refused",
            col(CarrierAnnouncement.parcel_state).is_(None)
            | col(CarrierAnnouncement.parcel_state).in_(("announced", "reserved")),
        )
    )
    cold_free = state.cold_free or {}
    if cold is not None:
        of_kind = pending.where(col(CommandRow.args)["cold"].astext == cold)
        return int(cold_free.get(cold, {}).get(size, 0)) - int(session.exec(of_kind).one())
    frozen = int(cold_free.get("frozen", {}).get(size, 0))  # never for an ambient parcel
    overall = int(state.free.get(size, 0)) - frozen - int(session.exec(pending).one())
    if not accessible:
        return overall
    low = pending.where(col(CarrierAnnouncement.accessible).is_(True))
    return min(overall, int(state.accessible_free.get(size, 0)) - int(session.exec(low).one()))


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a sphere of the Earth's mean radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _shared(a: str, b: str) -> int:
    a, b = a.replace(" ", "").upper(), b.replace(" ", "").upper()
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def rank(candidates: list[Candidate]) -> list[Candidate]:
    """Nearest first: by distance where known, then by postcode, then by room, then name."""

    def key(c: Candidate) -> tuple[int, float, int, str]:
        if c.distance_km is not None:
            return (0, c.distance_km, -c.room, c.station)
        if c.shared_postcode:
            return (1, -c.shared_postcode, -c.room, c.station)
        return (2, 0.0, -c.room, c.station)

    return sorted(candidates, key=key)


def _candidate(
    session: Session, station: str, request: AnnouncementRequest, place: StationPlace | None
) -> Candidate:
    distance = None
    shared = 0
    if place is not None:
        if (
            request.recipient_latitude is not None
            and request.recipient_longitude is not None
            and place.latitude is not None
            and place.longitude is not None
        ):
            distance = great_circle_km(
                request.recipient_latitude,
                request.recipient_longitude,
                place.latitude,
                place.longitude,
            )
        if request.recipient_postcode and place.postcode:
            shared = _shared(request.recipient_postcode, place.postcode)
    found = room(session, station, request.size, request.accessible, request.cold)
    return Candidate(station, found, distance, shared)


def _what(request: AnnouncementRequest) -> str:
    """The compartment asked for, in words: "free chilled M compartment"."""
    return f"free {request.cold + ' ' if request.cold else ''}{request.size} compartment"


def choose(session: Session, carrier: str, request: AnnouncementRequest) -> str:
    """The station the parcel goes to (see the module's text), or a clear refusal."""
    allowed = allowed_stations(session, carrier)
    if request.station is not None:
        if request.station not in allowed:
            if session.get(Station, request.station) is None:
                raise NotFound("station", request.station)
            raise StationNotAllowed(f"{carrier} may not use station {request.station}")
        place = session.get(StationPlace, request.station)
        if _candidate(session, request.station, request, place).room <= 0:
            raise StationFull(
                f"station {request.station} has no {_what(request)}"
                + (" low enough for the recipient" if request.accessible else "")
            )
        return request.station
    online = set(
        session.exec(
            select(StationState.station).where(
                col(StationState.station).in_(allowed), col(StationState.online).is_(True)
            )
        ).all()
    )
    places = {
        p.station: p
        for p in session.exec(select(StationPlace).where(col(StationPlace.station).in_(allowed)))
    }
    fitting = [
        c
        for c in (_candidate(session, s, request, places.get(s)) for s in allowed if s in online)
        if c.room > 0
    ]
    if not fitting:
        raise NoStationFits(
            f"none of the {len(allowed)} station(s) {carrier} may use is online with a "
            f"{_what(request)}" + (" low enough" if request.accessible else "")
        )
    return rank(fitting)[0].station


def announce(
    session: Session, carrier: str, request: AnnouncementRequest, now: datetime
) -> tuple[CarrierAnnouncement, Command | None]:
    """Route and record the announcement; the command to publish once committed (None
    when the tracking number was announced already: that announcement is the answer).
    A refused one, or one that lapsed at its station (never brought in), may be announced
    again: it is then routed anew."""
    session.exec(select(func.pg_advisory_xact_lock(ROUTING_LOCK))).one()
    known = session.get(CarrierAnnouncement, (carrier, request.tracking_number))
    if known is not None:
        command = session.get_one(CommandRow, known.command_id)
        if command.state != "refused" and known.parcel_state != "lapsed":
            return known, None
        session.delete(known)
        session.flush()
    station = choose(session, carrier, request)
    args = commands.AnnounceArgs(
        tracking_number=request.tracking_number,
        carrier=carrier,
        size=request.size,
        recipient_name=request.recipient_name,
        recipient_email=request.recipient_email,
        recipient_phone=request.recipient_phone,
        accessible=request.accessible,
        cold=request.cold,
        amount_due=request.amount_due,
    )
    if request.recipient_language != "en":  # the station writes to the recipient in it
        args.recipient_language = request.recipient_language
    issued = commands.issue(session, station, "announce", args, by=f"carrier:{carrier}", now=now)
    session.flush()
    row = CarrierAnnouncement(
        carrier=carrier,
        tracking_number=request.tracking_number,
        station=station,
        size=request.size,
        accessible=request.accessible,
        command_id=issued.id,
        announced_at=now,
    )
    session.add(row)
    session.flush()
    return row, issued
