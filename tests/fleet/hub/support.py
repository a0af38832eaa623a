"""Helpers for the hub's tests: a migrated hub database, a station's history, row dumps."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from fleet import registry
from fleet.db import HubDatabase
from fleet.registry import StationCredentials
from fleet.tables import HubTable
from locker.uplink.messages import Event, Presence, Snapshot, topic
from tests.fleet.engines import PgDatabase

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def hub_db(pg_database: PgDatabase) -> Iterator[HubDatabase]:
    db = HubDatabase(pg_database.url)
    db.upgrade()
    yield db
    db.close()


@pytest.fixture
def station_a(hub_db: HubDatabase) -> StationCredentials:
    return registry.add_station(hub_db, "a", T0)


def event(station: str, seq: int, kind: str, /, **data: Any) -> Event:
    return Event(
        id=uuid.uuid5(uuid.NAMESPACE_URL, f"lps:{station}/{seq}").hex,
        station=station,
        seq=seq,
        at=T0 + timedelta(minutes=seq),
        type=kind,  # type: ignore[arg-type]
        data=data,
    )


def parcel(pid: int, state: str, compartment: int | None, **more: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "tracking_number": f"TRK{pid:04d}",
        "carrier": "DHL",
        "state": state,
        "size": "M",
        "compartment_id": compartment,
        "deadline": (T0 + timedelta(days=7)).isoformat(),
        **more,
    }


def history(station: str = "a") -> list[Event]:
    """A day at a station: every kind of event, parcels coming and going, an alert."""
    steps: list[tuple[str, dict[str, Any]]] = [
        ("compartment", {"compartment_id": 1, "size": "S", "state": "free"}),
        ("compartment", {"compartment_id": 2, "size": "M", "state": "free"}),
        ("compartment", {"compartment_id": 3, "size": "L", "state": "free"}),
        ("capacity", {"free": {"S": 1, "M": 1, "L": 1}, "accessible_free": {"S": 1}}),
        ("parcel", parcel(10, "announced", None)),
        ("parcel", parcel(10, "reserved", 2)),
        ("compartment", {"compartment_id": 2, "size": "M", "state": "reserved"}),
        ("door", {"compartment_id": 2, "purpose": "deposit", "outcome": "opened"}),
        ("parcel", parcel(10, "stored", 2)),
        ("compartment", {"compartment_id": 2, "size": "M", "state": "occupied"}),
        ("capacity", {"free": {"S": 1, "M": 0, "L": 1}, "accessible_free": {"S": 1}}),
        ("parcel", parcel(11, "announced", None)),
        ("alert.raised", {"kind": "door_left_open", "compartment_id": 3, "detail": "open 3 min"}),
        ("bus", {"health": {"bus0": {"frames": 120, "timeouts": 1}}}),
        ("parcel", parcel(12, "reserved", 1)),
        ("parcel", parcel(12, "stored", 1)),
        ("parcel", parcel(12, "collected", None)),
        ("alert.raised", {"kind": "board_gone", "compartment_id": None, "detail": "bus0/1"}),
        ("alert.cleared", {"kind": "door_left_open", "compartment_id": 3}),
        ("compartment", {"compartment_id": 3, "size": "L", "state": "out_of_service"}),
        ("bus", {"health": {"bus0": {"frames": 240, "timeouts": 2}}}),
    ]
    return [event(station, i, kind, **data) for i, (kind, data) in enumerate(steps, start=1)]


def evt_topic(station: str = "a") -> str:
    return topic(station, "evt")


def birth(station: str, last_seq: int, boot: str = "boot-1") -> Presence:
    return Presence(station=station, online=True, at=T0, boot=boot, last_seq=last_seq)


def snapshot_after(station: str, last_seq: int) -> Snapshot:
    """What the station of :func:`history` reports after its last event (21)."""
    return Snapshot.model_validate(
        {
            "station": station,
            "at": T0 + timedelta(hours=1),
            "last_seq": last_seq,
            "compartments": [
                {"id": 1, "size": "S", "state": "free"},
                {"id": 2, "size": "M", "state": "occupied"},
                {"id": 3, "size": "L", "state": "out_of_service"},
            ],
            "parcels": [parcel(10, "stored", 2), parcel(11, "announced", None)],
            "alerts": [
                {
                    "kind": "board_gone",
                    "compartment_id": None,
                    "detail": "bus0/1",
                    "raised_at": T0 + timedelta(minutes=18),
                }
            ],
            "capacity": {"S": 1, "M": 0, "L": 1},
            "bus": {"bus0": {"frames": 240, "timeouts": 2}},
        }
    )


def dump(db: HubDatabase, *skip: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every hub table, in a stable order (for comparing row by row)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for table in HubTable.metadata.sorted_tables:
            if table.name in skip:
                continue
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def views(db: HubDatabase, station: str = "a") -> dict[str, Any]:
    """What the hub shows of a station: its views and state, without ids or times of arrival."""
    with db.engine.connect() as conn:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return sorted((tuple(r) for r in conn.execute(sa.text(sql), {"s": station})), key=repr)

        return {
            "parcels": rows(
                "SELECT parcel_id, tracking_number, carrier, state, size, compartment_id,"
                " deadline, accessible FROM parcels WHERE station = :s"
            ),
            "compartments": rows(
                "SELECT compartment_id, size, state FROM compartments WHERE station = :s"
            ),
            "alerts": rows(
                "SELECT kind, compartment_id, detail, raised_at FROM alerts WHERE station = :s"
            ),
            "state": rows("SELECT contiguous_seq, free, bus FROM station_state WHERE station = :s"),
        }


def form_token(http: TestClient) -> str:
    """The sign-in form's CSRF value, as the page gives it (and its cookie)."""
    found = re.search(r'name="form_token" value="([^"]+)"', http.get("/fleet/").text)
    assert found is not None
    return found.group(1)


def holding(db: HubDatabase, *values: str) -> list[tuple[str, str, str]]:
    """Every (table, column, value) of the hub's whole database where a text column (text,
    varchar, JSON) of any row holds one of ``values``: the search for personal data."""
    found: list[tuple[str, str, str]] = []
    with db.engine.connect() as connection:
        columns = connection.execute(
            sa.text(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type IN "
                "('text', 'character varying', 'character', 'json', 'jsonb')"
            )
        ).all()
        assert len(columns) > 20  # every table's text, not a few
        for table, column in columns:
            for value in values:
                hit = connection.execute(
                    sa.text(
                        f'SELECT 1 FROM "{table}" WHERE strpos("{column}"::text, :v) > 0 LIMIT 1'  # noqa: S608
                    ),
                    {"v": value},
                ).first()
                if hit is not None:
                    found.append((table, column, value))
    return found
