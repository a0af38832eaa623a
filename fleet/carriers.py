"""Carriers on the hub: their accounts. Routing an announcement to a station is in
:mod:`fleet.routing`, the signed webhook stream of their parcels in
:mod:`fleet.carrier_stream`.

An account has a bearer token (``car_…``, kept only as its SHA-256 hash), the stations it
may use, a webhook URL and the key its webhooks are signed with. Its name is the carrier's
name on the stations' parcels: the stations' couriers of that carrier deposit what it
announces, and its stream is made of the parcels with that name. Where each station is
(:class:`fleet.tables.StationPlace`), for routing, is set here too.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import select

from fleet.db import HubDatabase
from fleet.errors import AlreadyExists, InvalidName, NotAuthenticated, NotFound
from fleet.tables import (
    CarrierAccount,
    CarrierStation,
    Station,
    StationPlace,
)

_LOG = logging.getLogger(__name__)
TOKEN_PREFIX = "car_"  # noqa: S105 (a marker, not a secret)
TEXT = r"^[^\x00-\x1f\x7f]*$"  # no control characters (PostgreSQL holds no NUL)
Size = Literal["S", "M", "L", "XL"]
Clock = Callable[[], datetime]


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


def allow_station(db: HubDatabase, carrier: str, station: str) -> bool:
    """Let ``carrier`` use ``station`` too; False when it could already."""
    with db.transaction() as session:
        if session.get(CarrierAccount, carrier) is None:
            raise NotFound("carrier", carrier)
        if session.get(Station, station) is None:
            raise NotFound("station", station)
        if session.get(CarrierStation, (carrier, station)) is not None:
            return False
        session.add(CarrierStation(carrier=carrier, station=station))
        return True


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


# -- the stream (called by ingest, in the transaction applying the event) --------------


# -- delivery (the workers) -----------------------------------------------------------
