"""Growing a real station's database to years: the weeks a real two-week run wrote, copied
forward (ids and times shifted) into the file, with or without pruning.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.db_growth_rows import (
    GROWING,
    Clock,
    Run,
    Station14,
    file_size,
    row_counts,
)
from locker.notify.notifier import Notifier
from locker.station import Policy, Station
from locker.store.db import Database
from locker.testkit.memory_locks import InMemoryLocks

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
            sizes.append(file_size(db))
    copier.close()
    size = file_size(db)
    rows = row_counts(db)
    db.close()
    return Run(14 + 7 * weeks, size, rows["parcel"], rows, time.monotonic() - began, sizes)
