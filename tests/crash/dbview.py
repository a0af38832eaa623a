"""The station's SQLite file read directly (sqlite3, no station code): snapshots, the
crash-safety invariants, and what changed between two snapshots."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Row = dict[str, Any]
ACTIVE = ("reserved", "stored", "expired")  # a parcel in these states holds its compartment


def connect(path: Path, *, read_only: bool = True) -> sqlite3.Connection:
    """Read-only leaves a live station's WAL alone (no checkpoint when we close)."""
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    connection = sqlite3.connect(uri, uri=True, timeout=30)
    connection.row_factory = sqlite3.Row
    return connection


def _rows(connection: sqlite3.Connection, table: str, key: str = "id") -> dict[Any, Row]:
    cursor = connection.execute(f"SELECT * FROM {table} ORDER BY {key}")  # noqa: S608
    return {row[key]: dict(row) for row in cursor}


@dataclass(frozen=True)
class Snapshot:
    parcels: dict[int, Row]
    compartments: dict[int, Row]
    door_ops: dict[int, Row]
    codes: dict[int, Row]
    audit: list[Row]

    def parcel(self, pid: int) -> Row:
        return self.parcels[pid]

    def active_in(self, cid: int) -> list[int]:
        return [
            p["id"]
            for p in self.parcels.values()
            if p["compartment_id"] == cid and p["state"] in ACTIVE
        ]

    def free(self) -> list[int]:
        """Compartments in service, holding nothing, no door under way."""
        busy = {o["compartment_id"] for o in self.door_ops.values() if o["outcome"] is None}
        held = {p["compartment_id"] for p in self.parcels.values() if p["state"] in ACTIVE}
        return [
            c["id"]
            for c in self.compartments.values()
            if c["condition"] == "ok" and not c["retired"] and c["id"] not in held | busy
        ]


def snapshot(path: Path, *, read_only: bool = True) -> Snapshot:
    connection = connect(path, read_only=read_only)
    try:
        connection.execute("BEGIN")  # one consistent view of every table
        return Snapshot(
            parcels=_rows(connection, "parcel"),
            compartments=_rows(connection, "compartment"),
            door_ops=_rows(connection, "door_op"),
            codes=_rows(connection, "pickup_code"),
            audit=list(_rows(connection, "audit").values()),
        )
    finally:
        connection.close()


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` on a copy (opening it runs WAL recovery)."""
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def problems(snap: Snapshot, *, settled: bool) -> list[str]:
    """The invariants; ``settled``: after start-up reconcile, no intent may be left open.

    * every stored (and reserved, expired) parcel points at exactly one existing
      compartment, one in the layout;
    * no compartment is held by two parcels;
    * at most one door intent per compartment is open; once settled, none, and an
      intent whose outcome is unknown has its compartment at fault (flagged for staff).
    """
    found = []
    for p in snap.parcels.values():
        if p["state"] in ACTIVE:
            cid = p["compartment_id"]
            if cid is None or cid not in snap.compartments:
                found.append(f"parcel {p['id']} is {p['state']} in no compartment ({cid})")
            elif snap.compartments[cid]["retired"]:
                found.append(f"parcel {p['id']} is in retired compartment {cid}")
        if p["state"] == "stored" and p["stored_at"] is None:
            found.append(f"parcel {p['id']} is stored but was never stored")
    held = Counter(p["compartment_id"] for p in snap.parcels.values() if p["state"] in ACTIVE)
    found += [f"compartment {c} is given to {n} parcels" for c, n in held.items() if n > 1]
    open_ops = Counter(o["compartment_id"] for o in snap.door_ops.values() if o["outcome"] is None)
    found += [f"compartment {c} has {n} open door intents" for c, n in open_ops.items() if n > 1]
    if settled:
        found += [
            f"door intent {o['id']} on compartment {o['compartment_id']} has no outcome"
            for o in snap.door_ops.values()
            if o["outcome"] is None
        ]
    return found


def changed(before: dict[Any, Row], after: dict[Any, Row]) -> dict[Any, set[str]]:
    """Per key: the columns that differ (a new row: every column; a lost row: ``{"<gone>"}``)."""
    diff: dict[Any, set[str]] = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old is None or new is None:
            diff[key] = {"<gone>"} if new is None else set(new)
            continue
        cols = {c for c in old if old[c] != new[c]}
        if cols:
            diff[key] = cols
    return diff


def audit_appended(before: Snapshot, after: Snapshot) -> list[Row]:
    """The audit log only grows: the rows added since ``before`` (asserts the rest stayed)."""
    assert after.audit[: len(before.audit)] == before.audit, "an audit row changed or vanished"
    return after.audit[len(before.audit) :]
