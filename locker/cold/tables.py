"""The rows of the cold groups: each group's state, and its readings of the last day.

A group's state is kept in the database, not only in the watcher's memory, so that a
restart neither forgets that a group is closed to new cold parcels nor raises its alert
again; the readings are one row per group and minute, pruned after a day.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, Session, col, select

from locker.store.row import Row
from locker.store.tables import UTCDateTime


class ColdGroupState(Row, table=True):
    """Where a cold group stands: ``ok``, ``out_of_band`` or ``silent`` (its thermometer does
    not answer), since when, and whether it takes new cold parcels."""

    __tablename__ = "cold_group_state"

    group: str = Field(primary_key=True, max_length=40)
    status: str = Field(default="ok", max_length=16)
    since: datetime = Field(sa_type=UTCDateTime, nullable=False)
    closed: bool = False  # takes no new parcels until it is back in band
    last_c: float | None = None  # the newest reading (None: no answer)
    last_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class ColdReading(Row, table=True):
    """One minute of one group: the mean, lowest and highest of its answers in that minute
    (all None: the thermometer did not answer at all that minute)."""

    __tablename__ = "cold_reading"

    group: str = Field(primary_key=True, max_length=40)
    minute: datetime = Field(primary_key=True, sa_type=UTCDateTime, nullable=False)
    mean_c: float | None = None
    min_c: float | None = None
    max_c: float | None = None
    answers: int = 0  # readings that came back in that minute
    silences: int = 0  # and those that did not


def open_cold_groups(session: Session) -> set[str]:
    """The cold groups that take new parcels: their last verdict was "in band"."""
    query = select(ColdGroupState.group).where(col(ColdGroupState.closed).is_(False))
    return set(session.exec(query).all())
