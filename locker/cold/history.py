"""A cold group's readings, one row per minute: the mean, lowest and highest answer and
how many reads went unanswered. Rows older than :data:`KEPT` are pruned as new minutes
begin, so the table stays about 1 440 rows per group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from locker.cold.tables import ColdReading

KEPT = timedelta(hours=24)


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def add_reading(session: Session, group: str, at: datetime, celsius: float | None) -> bool:
    """Count one read into its minute; True when it began a new minute (older rows of
    every group past :data:`KEPT` are then removed)."""
    minute = minute_of(at)
    row = session.get(ColdReading, (group, minute))
    new = row is None
    if row is None:
        row = ColdReading(group=group, minute=minute)
    if celsius is None:
        row.silences += 1
    else:
        total = (row.mean_c or 0.0) * row.answers + celsius
        row.answers += 1
        row.mean_c = total / row.answers
        row.min_c = celsius if row.min_c is None else min(row.min_c, celsius)
        row.max_c = celsius if row.max_c is None else max(row.max_c, celsius)
    session.add(row)
    if new:
        session.exec(delete(ColdReading).where(col(ColdReading.minute) < minute - KEPT))
    return new


@dataclass(frozen=True)
class Minute:
    at: datetime
    mean_c: float | None  # None: no answer in that minute
    min_c: float | None
    max_c: float | None


def last_day(session: Session, group: str, now: datetime) -> list[Minute]:
    """The group's minutes of the last :data:`KEPT`, oldest first."""
    rows = session.exec(  # plain columns, no row objects: a day is 1,440 of them
        select(ColdReading.minute, ColdReading.mean_c, ColdReading.min_c, ColdReading.max_c)
        .where(ColdReading.group == group, col(ColdReading.minute) >= minute_of(now) - KEPT)
        .order_by(col(ColdReading.minute))
    ).all()
    return [Minute(*row) for row in rows]
