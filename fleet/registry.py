"""The station registry: who may report to the hub, with what broker password and key.

A new station gets a broker password (shown once; kept only as Mosquitto's own
PBKDF2-SHA512 hash, for the broker's dynamic-security file: :mod:`fleet.broker`) and a command
key (32 random bytes: the hub signs its commands with it, the station checks them).
Its broker user is ``st-<name>``; :func:`stations` is what the broker's configuration file
is written from.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from fleet import broker
from fleet.db import HubDatabase
from fleet.errors import AlreadyExists, InvalidName, NotFound
from fleet.tables import Station, StationState
from locker.uplink.messages import STATION_NAME


@dataclass(frozen=True)
class StationCredentials:
    """What a new station is told once: the hub keeps no broker password."""

    name: str
    broker_user: str
    broker_password: str
    command_key: str  # hex


def add_station(db: HubDatabase, name: str, now: datetime) -> StationCredentials:
    if not STATION_NAME.fullmatch(name):
        raise InvalidName(
            f"{name!r} cannot be a station name: 1 to 40 of a-z, 0-9 and '-', "
            "starting with a letter or digit"
        )
    password = broker.new_password()
    key = secrets.token_hex(32)
    with db.transaction() as session:
        if session.get(Station, name) is not None:
            raise AlreadyExists("station", name)
        session.add(
            Station(
                name=name,
                created_at=now,
                command_key=key,
                broker_password_hash=broker.hash_password(password),
            )
        )
        session.flush()
        session.add(StationState(station=name))
    return StationCredentials(name, broker.station_username(name), password, key)


def stations(db: HubDatabase) -> list[tuple[str, str]]:
    """Every registered station's ``(name, broker password hash)``, by name."""
    with db.transaction() as session:
        rows = session.exec(select(Station).order_by(col(Station.name))).all()
        return [(row.name, row.broker_password_hash) for row in rows]


def command_key(session: Session, station: str) -> bytes:
    row = session.get(Station, station)
    if row is None:
        raise NotFound("station", station)
    return bytes.fromhex(row.command_key)
