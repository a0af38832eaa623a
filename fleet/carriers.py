"""Carriers on the hub: accounts, routing an announcement to a station, and the signed
webhook stream of their parcels on every station.

- **An account** has a bearer token (``car_…``, kept only as its SHA-256 hash), the
  stations it may use, a webhook URL and the key its webhooks are signed with. Its name is
  the carrier's name on the stations' parcels: the stations' couriers of that carrier
  deposit what it announces, and its stream is made of the parcels with that name.
- **Routing** (:func:`announce`): to the station named, or to the best one of those the
  carrier may use. Only stations online with room for the parcel's size (and a low
  compartment, if the recipient needs one) are candidates; room is the free capacity the
  station last reported less the hub's own announcements to it not yet in a compartment.
  Then the nearest: great-circle distance when the station and the recipient have
  coordinates; else, with postcodes, the same postcode first, then the longest common
  leading part; then the most room; then the name. The hub's registry says where each
  station is (:class:`fleet.tables.StationPlace`). Announcements are routed one at a time
  (an advisory lock), so two at once never take the last compartment twice.
- **The stream** (:func:`parcel_changed`, :func:`reminded`): ingest writes a webhook row in
  the transaction that applies the station's event (each event takes effect once), for a
  parcel of a carrier that may use that station: ``parcel.stored``, ``parcel.reminder``
  (and ``parcel.last_call``), ``parcel.collected``, ``parcel.expired``, ``parcel.returned``.
  :func:`deliver_due` sends them, per carrier in the order they were written: the oldest
  first, the next only once it was taken. A failure waits (growing, up to
  ``RETRY_MAX``) and blocks that carrier's stream only. Signed as a station's carrier
  webhooks are (``X-Station-Signature``, :func:`locker.notify.messages.signature`). No
  pickup code is in them: the hub has none.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from fleet import commands
from fleet.db import HubDatabase
from fleet.errors import AlreadyExists, FleetError, InvalidName, NotAuthenticated, NotFound
from fleet.tables import (
    CarrierAccount,
    CarrierAnnouncement,
    CarrierStation,
    CarrierWebhook,
    CommandRow,
    EventRow,
    ParcelView,
    Station,
    StationPlace,
    StationState,
)
from locker.notify.senders import Poster, SendFailed
from locker.uplink.messages import STATION_NAME, Command, ParcelFacts

_LOG = logging.getLogger(__name__)
TOKEN_PREFIX = "car_"  # noqa: S105 (a marker, not a secret)
ROUTING_LOCK = 0x6361727269657273  # "carriers": announcements are routed one at a time
SIZES = ("S", "M", "L", "XL")
STREAM = {"stored", "collected", "expired", "returned"}  # parcel states told to carriers
RETRY_FIRST = timedelta(seconds=1)
RETRY_MAX = timedelta(minutes=10)
EARTH_RADIUS_KM = 6371.0
TEXT = r"^[^\x00-\x1f\x7f]*$"  # no control characters (PostgreSQL holds no NUL)
Size = Literal["S", "M", "L", "XL"]
Clock = Callable[[], datetime]


class NoStationFits(FleetError):
    code = "no_station_fits"
    status = 409


class StationFull(FleetError):
    code = "station_full"
    status = 409


class StationNotAllowed(FleetError):
    code = "station_not_allowed"
    status = 403


@dataclass(frozen=True)
class CarrierCredentials:
    """What a new carrier is told once: its token and its webhooks' signing key."""

    name: str
    token: str
    signing_key: str
    stations: tuple[str, ...]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_carrier(
    db: HubDatabase,
    name: str,
    stations: Sequence[str],
    webhook_url: str,
    now: datetime,
) -> CarrierCredentials:
    """A carrier account (the caller checks the webhook URL against its guard)."""
    if not 1 <= len(name) <= 100 or not name.isprintable() or name.strip() != name:
        raise InvalidName(f"{name!r} cannot be a carrier name")
    if not stations:
        raise InvalidName("a carrier needs at least one station (--stations a,b)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = secrets.token_hex(32)
    with db.transaction() as session:
        if session.get(CarrierAccount, name) is not None:
            raise AlreadyExists("carrier", name)
        for station in stations:
            if session.get(Station, station) is None:
                raise NotFound("station", station)
        session.add(
            CarrierAccount(
                name=name,
                token_hash=_token_hash(token),
                webhook_url=webhook_url,
                signing_key=key,
                created_at=now,
            )
        )
        session.flush()
        for station in dict.fromkeys(stations):
            session.add(CarrierStation(carrier=name, station=station))
    return CarrierCredentials(name, token, key, tuple(dict.fromkeys(stations)))


def authenticate(db: HubDatabase, token: str) -> CarrierAccount:
    with db.transaction() as session:
        found = session.exec(
            select(CarrierAccount).where(CarrierAccount.token_hash == _token_hash(token))
        ).first()
    if found is None:
        raise NotAuthenticated("A carrier's bearer token is needed (locker hub carrier add).")
    return found


def set_place(
    db: HubDatabase,
    station: str,
    *,
    address: str | None = None,
    opening_hours: str | None = None,
    postcode: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> StationPlace:
    """Set what is given of where a station is (``None`` keeps what was there)."""
    if (latitude is None) != (longitude is None):
        raise InvalidName("give both latitude and longitude, or neither")
    if (
        latitude is not None
        and longitude is not None
        and not (-90 <= latitude <= 90 and -180 <= longitude <= 180)
    ):
        raise InvalidName("latitude is -90..90 and longitude -180..180")
    with db.transaction() as session:
        if session.get(Station, station) is None:
            raise NotFound("station", station)
        place = session.get(StationPlace, station) or StationPlace(station=station)
        if address is not None:
            place.address = address
        if opening_hours is not None:
            place.opening_hours = opening_hours
        if postcode is not None:
            place.postcode = postcode.strip()
        if latitude is not None:
            place.latitude, place.longitude = latitude, longitude
        session.add(place)
    return place


# -- what a carrier asks --------------------------------------------------------------


class AnnouncementRequest(BaseModel):
    """A parcel to announce: to ``station``, or (without it) to the best station."""

    model_config = ConfigDict(extra="forbid")

    tracking_number: str = Field(min_length=1, max_length=100, pattern=TEXT)
    size: Size
    recipient_name: str = Field(min_length=1, max_length=200, pattern=TEXT)
    recipient_email: str | None = Field(default=None, max_length=254, pattern=TEXT)
    recipient_phone: str | None = Field(default=None, max_length=40, pattern=TEXT)
    recipient_language: Literal["en", "de"] = "en"
    accessible: bool = Field(default=False, description="the recipient needs a low compartment")
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


def room(session: Session, station: str, size: str, accessible: bool) -> int:
    """Free compartments of ``size`` the station reported, less the hub's announcements
    to it of that size not yet in a compartment (not answered, announced or reserved).
    For a recipient who needs a low one, the least of that count among the low ones and
    the count over all (the others' parcels may take low ones too)."""
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
    overall = int(state.free.get(size, 0)) - int(session.exec(pending).one())
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
    return Candidate(
        station, room(session, station, request.size, request.accessible), distance, shared
    )


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
                f"station {request.station} has no free {request.size} compartment"
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
            f"none of the {len(allowed)} station(s) {carrier} may use is online with a free "
            f"{request.size} compartment" + (" low enough" if request.accessible else "")
        )
    return rank(fitting)[0].station


def announce(
    session: Session, carrier: str, request: AnnouncementRequest, now: datetime
) -> tuple[CarrierAnnouncement, Command | None]:
    """Route and record the announcement; the command to publish once committed (None
    when the tracking number was announced already: that announcement is the answer).
    A refused one may be announced again: it is then routed anew."""
    session.exec(select(func.pg_advisory_xact_lock(ROUTING_LOCK))).one()
    known = session.get(CarrierAnnouncement, (carrier, request.tracking_number))
    if known is not None:
        command = session.get_one(CommandRow, known.command_id)
        if command.state != "refused":
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


# -- the stream (called by ingest, in the transaction applying the event) --------------


def _carriers_of(session: Session, station: str, carrier: str) -> bool:
    return (
        session.get(CarrierStation, (carrier, station)) is not None
        and session.get(CarrierAccount, carrier) is not None
    )


def _facts(parcel: ParcelFacts) -> dict[str, Any]:
    return {
        "id": parcel.id,
        "tracking_number": parcel.tracking_number,
        "carrier": parcel.carrier,
        "state": parcel.state,
        "size": parcel.size,
        "compartment_id": parcel.compartment_id,
        "deadline": parcel.deadline.isoformat() if parcel.deadline else None,
    }


def _webhook(
    session: Session, row: EventRow, carrier: str, event: str, parcel: ParcelFacts
) -> None:
    body = {
        "event": event,
        "event_id": row.event_id,
        "at": row.at.isoformat(),
        "station": row.station,
        "parcel": _facts(parcel),
        "state_then": parcel.state,
    }
    session.execute(
        insert(CarrierWebhook)
        .values(
            carrier=carrier,
            station=row.station,
            event_seq=row.seq,
            event=event,
            body=body,
            created_at=row.received_at,
            state="pending",
            attempts=0,
            next_at=row.received_at,
        )
        .on_conflict_do_nothing()
    )


def parcel_changed(
    session: Session, row: EventRow, parcel: ParcelFacts, before: str | None
) -> None:
    """A parcel event applied: the carrier's announcement learns its state, and a change
    into a state the stream tells of becomes a webhook."""
    session.execute(
        CarrierAnnouncement.__table__.update()  # type: ignore[attr-defined]
        .where(
            CarrierAnnouncement.__table__.c.carrier == parcel.carrier,  # type: ignore[attr-defined]
            CarrierAnnouncement.__table__.c.tracking_number == parcel.tracking_number,  # type: ignore[attr-defined]
            CarrierAnnouncement.__table__.c.station == row.station,  # type: ignore[attr-defined]
        )
        .values(parcel_id=parcel.id, parcel_state=parcel.state)
    )
    if parcel.state == before or parcel.state not in STREAM:
        return
    if _carriers_of(session, row.station, parcel.carrier):
        _webhook(session, row, parcel.carrier, f"parcel.{parcel.state}", parcel)


class _Reminder(ParcelFacts):
    reminder: Literal["reminder", "last_call"] = "reminder"


def reminded(session: Session, row: EventRow) -> None:
    reminder = _Reminder.model_validate(row.data)
    if _carriers_of(session, row.station, reminder.carrier):
        _webhook(session, row, reminder.carrier, f"parcel.{reminder.reminder}", reminder)


def before_state(session: Session, station: str, parcel_id: int) -> str | None:
    view = session.get(ParcelView, (station, parcel_id))
    return view.state if view is not None else None


# -- delivery (the workers) -----------------------------------------------------------


def _wait(attempts: int) -> timedelta:
    factor: int = 2 ** min(attempts - 1, 20)
    return min(RETRY_MAX, RETRY_FIRST * factor)


def deliver_due(db: HubDatabase, poster: Poster, clock: Clock, *, batch: int = 200) -> int:
    """Send what is due, per carrier in order; how many went out. Each webhook is one
    transaction holding its carrier's row (``FOR UPDATE SKIP LOCKED``), so several workers
    never send one carrier's webhooks at once or out of order."""
    with db.transaction() as session:
        names = session.exec(
            select(CarrierWebhook.carrier)
            .where(CarrierWebhook.state == "pending", col(CarrierWebhook.next_at) <= clock())
            .distinct()
        ).all()
    sent = 0
    for name in names:
        for _ in range(batch):
            done = _send_next(db, poster, name, clock)
            if done is None:
                break
            sent += int(done)
            if not done:
                break
    return sent


def _send_next(db: HubDatabase, poster: Poster, carrier: str, clock: Clock) -> bool | None:
    """The carrier's oldest pending webhook, sent: True, failed: False, none due: None."""
    with db.transaction() as session:
        account = session.exec(
            select(CarrierAccount)
            .where(CarrierAccount.name == carrier)
            .with_for_update(skip_locked=True)
        ).first()
        if account is None or not account.webhook_url:
            return None
        head = session.exec(
            select(CarrierWebhook)
            .where(CarrierWebhook.carrier == carrier, CarrierWebhook.state == "pending")
            .order_by(col(CarrierWebhook.id))
            .limit(1)
        ).first()
        now = clock()
        if head is None or head.next_at > now:
            return None
        assert head.id is not None
        body = {**head.body, "delivery_id": head.id}
        try:
            poster.post(account.webhook_url, body, secret=account.signing_key, delivery_id=head.id)
        except SendFailed as exc:
            head.attempts += 1
            head.next_at = now + _wait(head.attempts)
            head.last_error = str(exc)[:500]
            _LOG.warning("webhook %s to %s failed (%s): %s", head.id, carrier, head.attempts, exc)
            return False
        head.state = "sent"
        head.sent_at = now
        head.attempts += 1
        head.last_error = None
        return True
