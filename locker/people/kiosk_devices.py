"""Kiosk devices: the screens staff paired as the station's kiosk.

A paired screen holds a device token (from :mod:`secrets`, kept here only as a keyed
hash, like every other secret of the station). Codes typed on it are counted against
that device, not against a network address: the limits of :mod:`locker.people.attempts` treat
it as one terminal that nobody can multiply, so a guesser on the network cannot lock the
shop's own screen. Pairing a name again replaces its token (the old screen stops being a
kiosk at once); unpairing ends it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select, update

from locker.audit import record
from locker.errors import DomainError, NotFound
from locker.people.attempts import device_terminal
from locker.station import Station
from locker.store.tables import KioskDevice

TOKEN_PREFIX = "kd_"  # noqa: S105 - a marker, not a secret
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}")
TOUCH_EVERY = timedelta(minutes=5)


class BadDeviceName(DomainError):
    code = "invalid_request"
    status = 422


@dataclass(frozen=True)
class PairedDevice:
    name: str
    paired_by: str
    paired_at: datetime
    last_seen_at: datetime | None


def _hash(station: Station, token: str) -> str:
    return station.hasher.secret("kiosk-device", token)


def pair(station: Station, *, name: str, actor: str) -> str:
    """Pair (or re-pair) the kiosk ``name``; the device token, shown once."""
    if NAME.fullmatch(name) is None:
        raise BadDeviceName(
            "A kiosk's name has 1 to 40 letters, digits, spaces, dots, dashes or underscores."
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = station.now()
    with station.db.write() as session:
        row = session.get(KioskDevice, name)
        again = row is not None
        row = row or KioskDevice(name=name, token_hash="", paired_by=actor, paired_at=now)
        row.token_hash = _hash(station, token)
        row.paired_by, row.paired_at, row.last_seen_at = actor, now, None
        session.add(row)
        record(
            session,
            actor=actor,
            action="kiosk.repaired" if again else "kiosk.paired",
            now=now,
            detail=name,
        )
    return token


def unpair(station: Station, *, name: str, actor: str) -> None:
    now = station.now()
    with station.db.write() as session:
        row = session.get(KioskDevice, name)
        if row is None:
            raise NotFound("kiosk", name)
        session.delete(row)
        record(session, actor=actor, action="kiosk.unpaired", now=now, detail=name)


def devices(station: Station) -> list[PairedDevice]:
    with station.db.read() as session:
        rows = session.exec(select(KioskDevice).order_by(col(KioskDevice.name))).all()
    return [PairedDevice(r.name, r.paired_by, r.paired_at, r.last_seen_at) for r in rows]


def terminal_for_token(station: Station, token: str) -> str | None:
    """The attempt-limit terminal of a paired kiosk's token (None: not a live token)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = _hash(station, token)
    now = station.now()
    with station.db.read() as session:
        row = session.exec(select(KioskDevice).where(KioskDevice.token_hash == digest)).first()
    if row is None:
        return None
    if row.last_seen_at is None or now - row.last_seen_at >= TOUCH_EVERY:
        with station.db.write() as session:
            session.exec(
                update(KioskDevice)
                .where(col(KioskDevice.name) == row.name)
                .values(last_seen_at=now)
            )
    return device_terminal(row.name)
