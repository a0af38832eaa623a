"""How large the station's database grows in a year at 300 parcels a day, with the outbox
pruned after ``LOCKER_OUTBOX_RETENTION_DAYS`` and without.

Run: ``.venv/bin/python -m bench.db_growth [--days 365] [--per-day 300]``.

Two weeks of parcels go through the real services on a real SQLite file (migrated, WAL,
the station's pragmas): reserve, deposit (a door operation with its intent and outcome),
stored (its code issued), mailed and announced to its carrier's webhook through the
outbox, reminded, collected with its PIN, or expired and taken back by the courier. The
doors are the in-memory ones of ``locker.testkit.memory_locks``, the mail and webhook senders take
every message at the edge (nothing leaves the machine), and the clock is moved by hand.
The first week fills the station; the rows the second week wrote (its steady state) are
then copied, week after week, until the year is full: new ids with the references
between them moved alike, times moved, new code hashes (a service call takes tens of
milliseconds, a year of them hours; a copied week takes a second). The pruned run calls
the station's own prune after each week. The files live on ``/dev/shm`` when there is
one: the size is the same, only the fsyncs are free.

The mix of a day: 70 % are collected the same or the next day, 20 % two to four days
later, 7 % on their last day, after the reminder, 3 % never (they expire and the courier
takes them back). 90 % of recipients have a mail address; every carrier has a webhook.

The figure is the database file's size (after a checkpoint) beside the baseline of the
same run, a fresh migrated database, and the pruned file as a ratio of the unpruned one.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from locker.codes import CodeHasher
from locker.layout import Layout, parse_layout
from locker.notify.carriers import connect
from locker.notify.config import NotifyConfig, SmtpConfig
from locker.notify.messages import Letter
from locker.notify.notifier import Notifier
from locker.services import deposit, intake, pickup, staff
from locker.services.reminders import remind
from locker.station import Policy, Station, sync_layout
from locker.store.db import Database
from locker.testkit.memory_locks import InMemoryLocks

CARRIERS = ("Parcel Co", "Other Express", "Quick Post")
DOORS = 800  # enough for the parcels waiting (about 550 at the most)
REMIND_BEFORE = timedelta(hours=48)
LAST_CALL_BEFORE = timedelta(hours=24)


def layout(doors: int = DOORS) -> Layout:
    """``doors`` compartments on CU16 boards (16 locks each), 16 boards to a bus."""
    parts = ['[station]\nname = "Growth station"\n']
    boards = (doors + 15) // 16
    for bus in range((boards + 15) // 16):
        parts.append(f'[[bus]]\nid = "b{bus}"\nport = "sim"\n')
    for b in range(boards):
        parts.append(f'[[board]]\nbus = "b{b // 16}"\naddress = {b % 16}\n')
    sizes = ["S", "M"]
    for i in range(doors):
        b, lock = divmod(i, 16)
        parts.append(
            f'[[compartment]]\nid = {i + 1}\nbus = "b{b // 16}"\nboard = {b % 16}\n'
            f'lock = {lock + 1}\nsize = "{sizes[i % 2]}"\ncolumn = {b + 1}\nrow = {lock + 1}\n'
        )
    return parse_layout("\n".join(parts))


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


def _collect_day(rng: random.Random, day: int) -> int | None:
    r = rng.random()
    if r < 0.70:
        return day + rng.choice((0, 1))
    if r < 0.90:
        return day + rng.randint(2, 4)
    if r < 0.97:
        return day + 6  # after the reminder (two days before the deadline)
    return None


def _size(db: Database) -> int:
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return db.path.stat().st_size


COUNTED = ("parcel", "audit", "door_op", "pickup_code", "outbox_event", "delivery")


def _rows(db: Database) -> dict[str, int]:
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


def _max_ids(db: Database) -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            t: int(connection.execute(text(f"SELECT coalesce(max(id), 0) FROM {t}")).scalar_one())  # noqa: S608
            for t in GROWING
        }


def run_real(folder: Path, *, days: int, per_day: int, seed: int = 15) -> Station14:
    """``days`` days of parcels through the real services (two weeks: the first fills the
    station, the second is the steady state a year is made of)."""
    rng = random.Random(seed)
    plan = layout()
    locks = InMemoryLocks([c.id for c in plan.compartments])
    db = Database(folder / "station.db")
    db.upgrade()
    clock = Clock()
    station = Station(
        layout=plan,
        db=db,
        locks=locks,
        hasher=CodeHasher(os.urandom(32)),
        policy=Policy(),
        clock=clock,
    )
    sync_layout(station)
    for name in CARRIERS:
        connect(
            station,
            name=name,
            webhook_url=f"https://{name.split()[0].lower()}.example/hooks/station",
            actor="admin",
        )
    edge = Edge()
    config = NotifyConfig(
        station_name="Growth station",
        smtp=SmtpConfig(host="mail.example"),
        remind_before=REMIND_BEFORE,
        last_call_before=LAST_CALL_BEFORE,
    )
    notifier = Notifier(station, config, edge, edge)
    waiting: list[Waiting] = []
    made = 0
    first: dict[str, int] = {}

    def work_outbox() -> None:
        while True:
            report = notifier.run_once(batch=500)
            if not (report.expanded or report.sent or report.skipped or report.failed):
                return

    for day in range(days):
        if day == days - 7:
            first = {t: n + 1 for t, n in _max_ids(db).items()}
        start = datetime(2026, 1, 1, 8, 0, tzinfo=UTC) + timedelta(days=day)
        step = timedelta(hours=12) / per_day
        for i in range(per_day):
            clock.now = start + step * i
            carrier = CARRIERS[i % len(CARRIERS)]
            email = f"r{rng.randrange(10**8)}@example.org" if rng.random() < 0.9 else None
            held = deposit.reserve(
                station,
                actor=f"courier:{carrier}",
                parcel=intake.ParcelInput(
                    carrier=carrier,
                    tracking_number=f"{carrier[:2].upper()}{rng.randrange(10**11, 10**12)}",
                    recipient_name=f"Recipient {rng.randrange(10**6)}",
                    dimensions_mm=(rng.randint(50, 250), rng.randint(20, 150), 80),
                    recipient_email=email,
                ),
            )
            courier = f"courier:{carrier}"
            assert deposit.deposit(station, actor=courier, parcel_id=held.parcel_id).opened
            locks.put(held.compartment_id)
            locks.close(held.compartment_id)
            stored = deposit.confirm_stored(station, parcel_id=held.parcel_id, actor=courier)
            assert stored.code is not None
            collect_on = _collect_day(rng, day)
            waiting.append(
                Waiting(held.parcel_id, held.compartment_id, stored.code.pin, day, collect_on)
            )
            made += 1
            if i % 50 == 49:
                work_outbox()
        # the afternoon and evening: the recipients collect, the reminders go out
        clock.now = start + timedelta(hours=12, minutes=30)
        for w in [w for w in waiting if w.collect_on == day]:
            clock.now += timedelta(seconds=20)
            assert pickup.collect(station, code=w.pin, terminal="kiosk").all_opened
            locks.take(w.compartment_id)
            locks.close(w.compartment_id)
            waiting.remove(w)
        clock.now = start + timedelta(hours=14)
        remind(station, remind_before=REMIND_BEFORE, last_call_before=LAST_CALL_BEFORE)
        staff.expire(station)
        for w in [w for w in waiting if w.collect_on is None and day - w.deposited >= 8]:
            assert staff.take_back(station, actor="courier:back", parcel_id=w.parcel_id).opened
            locks.take(w.compartment_id)
            locks.close(w.compartment_id)
            waiting.remove(w)
        work_outbox()
    last = _max_ids(db)
    week = {t: (first[t], last[t]) for t in GROWING}
    return Station14(station, notifier, clock, week, made, edge)


ACTIVE = "('reserved', 'stored', 'expired')"


def _copy_week(connection: sqlite3.Connection, week: dict[str, tuple[int, int]], k: int) -> None:
    """Append the ``k``-th copy of the second week's rows, a ``k`` weeks later: new ids (the
    references between them moved alike), times moved, unique codes new. A parcel still
    waiting at the end of the real run is collected in its copies (its door is free).
    The rows come from the real run's own file (attached as ``tpl``): the pruned file
    has lost them after a month."""
    span = {t: hi - lo + 1 for t, (lo, hi) in week.items()}
    shift = f"'+{7 * k} days'"

    def moved(column: str) -> str:
        return f"strftime('%Y-%m-%d %H:%M:%f', {column}, {shift}) || '000'"

    def ref(table: str, column: str) -> str:
        return f"{column} + {k * span[table]}" if span[table] else column

    columns: dict[str, list[str]] = {}
    connection.execute("BEGIN IMMEDIATE")
    try:
        for table in (*GROWING, "code_parcel"):
            info = connection.execute(f"PRAGMA table_info({table})").fetchall()
            columns[table] = [row[1] for row in info]
        times = {
            "pickup_code": ("created_at", "expires_at", "used_at"),
            "parcel": (
                "created_at",
                "reserved_until",
                "door_opened_at",
                "stored_at",
                "deadline",
                "finished_at",
            ),
            "door_op": ("created_at", "finished_at"),
            "audit": ("at",),
            "outbox_event": ("at",),
            "delivery": ("next_attempt_at", "claimed_until", "sent_at"),
        }
        special = {
            "pickup_code": {
                "id": ref("pickup_code", "id"),
                "pin_hash": "lower(hex(randomblob(length(pin_hash) / 2)))",
                "qr_hash": "lower(hex(randomblob(length(qr_hash) / 2)))",
            },
            "parcel": {
                "id": ref("parcel", "id"),
                "code_id": ref("pickup_code", "code_id"),
                "state": f"CASE WHEN state IN {ACTIVE} THEN 'collected' ELSE state END",
            },
            "door_op": {"id": ref("door_op", "id")},
            "audit": {"id": ref("audit", "id"), "parcel_id": ref("parcel", "parcel_id")},
            "outbox_event": {
                "id": ref("outbox_event", "id"),
                "parcel_id": ref("parcel", "parcel_id"),
                "key": f"CASE WHEN key IS NULL THEN NULL ELSE key || '#{k}' END",
            },
            "delivery": {
                "id": ref("delivery", "id"),
                "event_id": ref("outbox_event", "event_id"),
                "dedup_key": f"({ref('outbox_event', 'event_id')}) || "
                "substr(dedup_key, instr(dedup_key, ':'))",
            },
        }
        for table in GROWING:
            lo, hi = week[table]
            out = []
            for c in columns[table]:
                if c in special[table]:
                    out.append(special[table][c])
                elif c in times[table]:
                    out.append(moved(c))
                elif c == "parcel_id":
                    out.append(ref("parcel", c))
                else:
                    out.append(c)
            names = ", ".join(columns[table])
            connection.execute(
                f"INSERT INTO {table} ({names}) SELECT {', '.join(out)} FROM tpl.{table} "  # noqa: S608
                f"WHERE id BETWEEN {lo} AND {hi}"
            )
        lo, hi = week["pickup_code"]
        connection.execute(
            f"INSERT INTO code_parcel (code_id, parcel_id) SELECT {ref('pickup_code', 'code_id')}, "  # noqa: S608
            f"{ref('parcel', 'parcel_id')} FROM tpl.code_parcel WHERE code_id BETWEEN {lo} AND {hi}"
        )
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def extend(path: Path, real: Station14, *, days: int, prune_after: timedelta | None) -> Run:
    """The real run's file (at ``path``) made a year long by copies of its second week;
    pruned after each week when ``prune_after`` is given, as the station's hourly job
    would (the weekly round keeps at most a week more than the retention)."""
    began = time.monotonic()
    db = Database(path)
    clock = Clock()
    station = Station(
        layout=real.station.layout,
        db=db,
        locks=InMemoryLocks([]),
        hasher=real.station.hasher,
        policy=Policy(),
        clock=clock,
    )
    notifier = Notifier(station, real.notifier.config, real.edge, real.edge)
    sizes: list[int] = []
    weeks = (days - 14 + 6) // 7
    copier = sqlite3.connect(path.resolve().as_uri(), uri=True, isolation_level=None)
    copier.execute(
        "ATTACH DATABASE ? AS tpl", (f"{real.station.db.path.resolve().as_uri()}?mode=ro",)
    )
    for k in range(1, weeks + 1):
        _copy_week(copier, real.week, k)
        clock.now = datetime(2026, 1, 15, 8, 0, tzinfo=UTC) + timedelta(days=7 * k)
        if prune_after is not None:
            notifier.prune(prune_after)
        if k % 4 == 0:
            sizes.append(_size(db))
    copier.close()
    size = _size(db)
    rows = _rows(db)
    db.close()
    return Run(14 + 7 * weeks, size, rows["parcel"], rows, time.monotonic() - began, sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=300)
    parser.add_argument("--retention-days", type=float, default=30)
    args = parser.parse_args()
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    root = Path(tempfile.mkdtemp(prefix="locker-growth-", dir=base))
    try:
        empty = Database(root / "empty.db")
        empty.upgrade()
        baseline = _size(empty)
        empty.close()
        began = time.monotonic()
        (root / "real").mkdir()
        real = run_real(root / "real", days=14, per_day=args.per_day)
        fortnight = _size(real.station.db)
        real.station.db.close()
        print(
            f"two weeks through the services: {real.parcels} parcels, "
            f"{real.edge.mails} mails, {real.edge.posts} webhooks, "
            f"{fortnight / 1e6:.1f} MB, {time.monotonic() - began:.0f} s",
            flush=True,
        )
        runs = {}
        retention = timedelta(days=args.retention_days)
        for label, keep in (
            ("outbox kept", None),
            (f"outbox pruned after {args.retention_days:g} days", retention),
        ):
            copy = root / f"{len(runs)}.db"
            shutil.copyfile(real.station.db.path, copy)
            runs[label] = extend(copy, real, days=args.days, prune_after=keep)
            print(f"{label}: done in {runs[label].seconds:.0f} s", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    kept = next(iter(runs.values()))
    print(
        f"\n{kept.days} days at {args.per_day} parcels a day "
        f"(a fresh database: {baseline / 1e3:.0f} kB)"
    )
    print(
        "| run | file | × fresh | × outbox kept | per parcel "
        "| rows: parcel, audit, door op, code, event, delivery |"
    )
    print("|---|---|---|---|---|---|")
    for label, run in runs.items():
        rows = ", ".join(str(v) for v in run.rows.values())
        print(
            f"| {label} | {run.size / 1e6:.1f} MB | {run.size / baseline:.0f}× | "
            f"{run.size / kept.size:.2f}× | {(run.size - baseline) / run.parcels:.0f} B "
            f"| {rows} |"
        )
    for label, run in runs.items():
        print(f"{label}, every 4 weeks (MB): " + " ".join(f"{s / 1e6:.1f}" for s in run.per_day))


if __name__ == "__main__":
    main()
