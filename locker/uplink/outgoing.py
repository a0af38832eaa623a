"""What the station's uplink sends, read from the outbox, and how far the broker took it.

An event leaves the outbox only after the broker acknowledged it (``acked``), and the
acknowledged point only moves over an unbroken run of numbers, so a station cut off for a
day sends, once it is back, everything from the first event the broker did not confirm,
in order. Events stay after that (for the hub's ``resend``) until the outbox's own
retention removes them.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlmodel import Session, col, select

from locker.station import Station
from locker.store.tables import OutboxEvent, UplinkState
from locker.uplink.capture import HUB_EVENT
from locker.uplink.messages import Event


def _state(session: Session) -> UplinkState:
    return session.get(UplinkState, 1) or UplinkState(id=1, acked_seq=0)


def acked_seq(station: Station) -> int:
    with station.db.read() as session:
        return _state(session).acked_seq


def newest_seq(station: Station) -> int:
    with station.db.read() as session:
        return int(session.exec(select(sa.func.max(OutboxEvent.hub_seq))).one() or 0)


def mark_acked(station: Station, seq: int) -> None:
    """The broker has every event up to ``seq``; never moves back."""
    with station.db.write() as session:
        state = _state(session)
        if seq > state.acked_seq:
            state.acked_seq = seq
            session.add(state)


def events_after(station: Station, name: str, seq: int, *, limit: int = 200) -> list[Event]:
    """The hub events numbered above ``seq``, oldest first."""
    with station.db.read() as session:
        rows = session.exec(
            select(OutboxEvent)
            .where(col(OutboxEvent.hub_seq) > seq)
            .order_by(col(OutboxEvent.hub_seq))
            .limit(limit)
        ).all()
    return [
        Event(
            id=row.uid or "",
            station=name,
            seq=row.hub_seq or 0,
            at=row.at,
            type=row.event.removeprefix(HUB_EVENT),
            data=json.loads(row.detail),
        )
        for row in rows
    ]


def oldest_kept_seq(station: Station) -> int | None:
    with station.db.read() as session:
        found = session.exec(select(sa.func.min(OutboxEvent.hub_seq))).one()
    return int(found) if found is not None else None
