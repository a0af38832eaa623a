"""What the database-growth bench counts and carries between its steps: the clock it moves,
a run's figures, the real two weeks' station, the rows and the file's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from locker.notify.messages import Letter
from locker.notify.notifier import Notifier
from locker.station import Station
from locker.store.db import Database


class Edge:
    """The mail server and the webhooks' receivers at the edge: every message is taken."""

    def __init__(self) -> None:
        self.mails = 0
        self.posts = 0

    def send(self, letter: Letter, *, to: str, message_id: str) -> None:
        self.mails += 1

    def post(self, url: str, body: dict[str, Any], *, secret: str, delivery_id: int) -> None:
        self.posts += 1


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Waiting:
    parcel_id: int
    compartment_id: int
    pin: str
    deposited: int  # the day
    collect_on: int | None  # the day it is collected; None: never


@dataclass
class Run:
    days: int
    size: int  # the database file, bytes
    parcels: int
    rows: dict[str, int]
    seconds: float
    per_day: list[int] = field(default_factory=list)  # the size every four weeks


def file_size(db: Database) -> int:
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return db.path.stat().st_size


COUNTED = ("parcel", "audit", "door_op", "pickup_code", "outbox_event", "delivery")


def row_counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            t: int(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())  # noqa: S608
            for t in COUNTED
        }


@dataclass
class Station14:
    """A station run through the real services, and the rows of its second week."""

    station: Station
    notifier: Notifier
    clock: Clock
    week: dict[str, tuple[int, int]]  # table -> (first id, last id) written in week two
    parcels: int
    edge: Edge


# The tables a parcel writes to, by their integer id (code_parcel has none: it follows).
GROWING = ("pickup_code", "parcel", "door_op", "audit", "outbox_event", "delivery")


def max_ids(db: Database) -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            t: int(connection.execute(text(f"SELECT coalesce(max(id), 0) FROM {t}")).scalar_one())  # noqa: S608
            for t in GROWING
        }
