"""Reminders before a parcel's deadline: one ``remind_before`` it, a last call on the
last day. Each is an outbox event keyed by the parcel and its deadline, so it is written
once however often this runs, and an extension (a new deadline) arms new ones.

A cold parcel waits hours, not days: its reminder comes when half of its time is left and
its last call at a quarter (or earlier, as for any parcel), and their words say it is
chilled or frozen goods."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, or_, select

from locker.notify.outbox import record_event
from locker.station import Station
from locker.store.tables import Parcel
from locker.types import ParcelKind, ParcelState


def remind(station: Station, *, remind_before: timedelta, last_call_before: timedelta) -> int:
    """Write the reminders now due; how many were new."""
    now = station.now()
    written = 0
    with station.db.write() as session:
        due = session.exec(
            select(Parcel).where(
                Parcel.state == ParcelState.STORED,
                Parcel.kind != ParcelKind.RETURN,
                col(Parcel.deadline) > now,
                col(Parcel.deadline) <= now + max(remind_before, last_call_before),
                # the recipient is away (a hold): no reminder until they are back
                or_(col(Parcel.held_until).is_(None), col(Parcel.held_until) <= now),
            )
        ).all()
        for parcel in due:
            assert parcel.deadline is not None
            first, last = remind_before, last_call_before
            if parcel.cold is not None:
                period = station.policy.period_for(parcel.cold)
                first, last = min(first, period / 2), min(last, period / 4)
            if parcel.deadline - first > now:
                continue
            last_day = parcel.deadline - last <= now
            event = "parcel.last_call" if last_day else "parcel.reminder"
            key = f"{event}:{parcel.id}:{parcel.deadline.isoformat()}"
            written += record_event(session, event, now=now, parcel=parcel, key=key)
    return written
