"""How large the station's database grows in a year at 300 parcels a day, with the outbox
pruned after ``LOCKER_OUTBOX_RETENTION_DAYS`` and without.

Run: ``.venv/bin/python -m bench.db_growth [--days 365] [--per-day 300]``.

Two weeks of parcels go through the real services on a real SQLite file (migrated, WAL,
the station's pragmas): reserve, deposit (a door operation with its intent and outcome),
stored (its code issued), mailed and announced to its carrier's webhook through the
outbox, reminded, collected with its PIN, or expired and taken back by the courier. The
doors are the in-memory ones of ``locker.testkit.memory_locks``, the mail and webhook
senders take every message at the edge (nothing leaves the machine), and the clock is moved by hand.
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
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.db_growth_copy import extend
from bench.db_growth_rows import (
    GROWING,
    Clock,
    Edge,
    Station14,
    Waiting,
    file_size,
    max_ids,
)
from locker.codes import CodeHasher
from locker.layout import Layout, parse_layout
from locker.notify.carriers import connect
from locker.notify.config import NotifyConfig, SmtpConfig
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


def _collect_day(rng: random.Random, day: int) -> int | None:
    r = rng.random()
    if r < 0.70:
        return day + rng.choice((0, 1))
    if r < 0.90:
        return day + rng.randint(2, 4)
    if r < 0.97:
        return day + 6  # after the reminder (two days before the deadline)
    return None


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
            first = {t: n + 1 for t, n in max_ids(db).items()}
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
    last = max_ids(db)
    week = {t: (first[t], last[t]) for t in GROWING}
    return Station14(station, notifier, clock, week, made, edge)


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
        baseline = file_size(empty)
        empty.close()
        began = time.monotonic()
        (root / "real").mkdir()
        real = run_real(root / "real", days=14, per_day=args.per_day)
        fortnight = file_size(real.station.db)
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
