"""Ingest a batch at a time (fleet.ingest_batch) against a real PostgreSQL: whatever the
batches, the order and the repeats, the hub ends as the events taken one by one in order
(also with cooled compartments' capacity, amounts due, payments and carriers' webhooks);
also the carriers' announcements and their parcels' states, since when, and an announcement
that lapses; a bad message in a batch is dropped alone; workers' batches over the same stations at
once neither deadlock nor skip."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet import carriers, ingest_batch
from fleet.db import HubDatabase
from fleet.ingest import Ingest
from fleet.registry import StationCredentials, add_station
from locker.uplink.messages import Event, topic
from tests.fleet.hub.support import (
    T0,
    dump,
    event,
    evt_topic,
    history,
    parcel,
    snapshot_after,
    views,
)
from tests.fleet.hub.test_ingest import BAD, state_of

STATIONS = ("a", "b")


def _paid(pid: int, state: str, compartment: int | None, **more: Any) -> dict[str, Any]:
    money = {"amount_cents": 2040, "currency": "EUR", "method": "card"}
    return {**parcel(pid, state, compartment, amount_due=2040), **money, **more}


def day(station: str) -> list[Event]:
    """:func:`history`, then cooled compartments and payments: a capacity with ``cold_free``,
    a cold group's reading, parcels with an amount due, paid (with and without the time of
    payment) at the station, paid and collected, paid while not at the station (known to
    the hub only by its webhook), a later event of a paid parcel (its ``paid_at`` is
    kept), and an announced parcel that lapses (never brought in)."""
    paid_at = (T0 + timedelta(minutes=24)).isoformat()
    steps: list[tuple[str, dict[str, Any]]] = [
        (
            "capacity",
            {
                "free": {"S": 1, "M": 0, "L": 0},
                "accessible_free": {"S": 1},
                "cold_free": {"chilled": {"M": 1}, "frozen": {"S": 0}},
            },
        ),
        (
            "cold",
            {"group": "fridge", "kind": "chilled", "min_c": 2, "max_c": 7, "status": "ok"},
        ),
        ("parcel", parcel(20, "stored", 3, amount_due=2040)),
        ("paid", _paid(20, "stored", 3, paid_at=paid_at)),
        ("parcel", parcel(20, "expired", 3, amount_due=2040)),  # paid_at kept
        ("paid", _paid(11, "announced", None)),  # no time given: the event's
        ("paid", _paid(99, "collected", None)),  # not at the station: a webhook only
        ("parcel", parcel(21, "stored", 1, amount_due=500, paid_at=paid_at)),
        ("paid", _paid(10, "stored", 2)),
        ("parcel", parcel(10, "collected", None, amount_due=2040)),
        ("capacity", {"free": {"S": 0, "M": 1, "L": 0}, "cold_free": {"chilled": {"M": 0}}}),
        ("parcel", parcel(22, "announced", None)),
        ("parcel", parcel(22, "lapsed", None, deadline=None)),
    ]
    first = len(history(station)) + 1
    more = [event(station, seq, kind, **data) for seq, (kind, data) in enumerate(steps, first)]
    return history(station) + more


def rows_of(db: HubDatabase, station: str) -> dict[str, Any]:
    """:func:`views` and what they leave out: amounts due and payments of the parcels,
    every capacity column of the station's row, its carriers' webhooks in their order,
    the carriers' announcements to it (their parcels' states and since when)."""
    with db.engine.connect() as conn:
        parcels = conn.execute(
            sa.text(
                "SELECT parcel_id, amount_due, paid_at FROM parcels WHERE station = :s"
                " ORDER BY parcel_id"
            ),
            {"s": station},
        ).all()
        state = conn.execute(
            sa.text(
                "SELECT free, accessible_free, cold_free, bus FROM station_state WHERE station = :s"
            ),
            {"s": station},
        ).one()
        hooks = conn.execute(
            sa.text(
                "SELECT carrier, event_seq, event, body, state FROM carrier_webhooks"
                " WHERE station = :s ORDER BY id"
            ),
            {"s": station},
        ).all()
        announced = conn.execute(
            sa.text(
                "SELECT tracking_number, parcel_id, parcel_state, parcel_since"
                " FROM carrier_announcements WHERE station = :s ORDER BY tracking_number"
            ),
            {"s": station},
        ).all()
    return {
        **views(db, station),
        "announcements": [tuple(r) for r in announced],
        "paid": [tuple(r) for r in parcels],
        "capacity": tuple(state),
        "webhooks": [tuple(r) for r in hooks],
    }


def batch(ingest: Ingest, events: list[Event], minutes: float = 0) -> list[object]:
    messages = [(evt_topic(e.station), e.payload()) for e in events]
    return list(ingest_batch.handle(ingest, messages, T0 + timedelta(minutes=minutes)))


def reset(db: HubDatabase) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE events, parcels, compartments, alerts, commands"))
        conn.execute(sa.text("TRUNCATE ingest_dropped, carrier_webhooks"))
        conn.execute(
            sa.text(
                "UPDATE carrier_announcements SET parcel_id = NULL, parcel_state = NULL,"
                " parcel_since = NULL"
            )
        )
        conn.execute(
            sa.text(
                "UPDATE station_state SET contiguous_seq = 0, station_last_seq = 0, free = '{}',"
                " accessible_free = '{}', cold_free = '{}', bus = '{}', gap_from = NULL,"
                " gap_seen_at = NULL,"
                " resend_from = NULL, resend_asked_at = NULL"
            )
        )


def in_order(db: HubDatabase) -> dict[str, object]:
    """What one by one, in order, leaves of each station."""
    reset(db)
    ingest = Ingest(db)
    for station in STATIONS:
        for e in day(station):
            ingest.handle(evt_topic(station), e.payload(), T0)
    return {station: rows_of(db, station) for station in STATIONS}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_batches_of_any_order_with_repeats_end_as_one_by_one_in_order(
    hub_db: HubDatabase, station_a: StationCredentials, data: st.DataObject
) -> None:
    if not _has(hub_db, "b"):  # the fixtures are the same for every example
        add_station(hub_db, "b", T0)
        carriers.add_carrier(hub_db, "DHL", list(STATIONS), "https://carrier.example/h", T0)
        announce(hub_db, [("a", pid) for pid in (10, 20, 22)])  # DHL's on a
    expected = in_order(hub_db)
    for station in STATIONS:  # what the test is about is there one by one
        rows = expected[station]
        assert isinstance(rows, dict)
        assert rows["capacity"][2] == {"chilled": {"M": 0}}
        assert [(p[0], p[1], p[2] is not None) for p in rows["paid"]] == [
            (11, 0, True),
            (20, 2040, True),
            (21, 500, True),
        ]
        paid_hooks = [h for h in rows["webhooks"] if h[2] == "parcel.paid"]
        assert [h[3]["parcel"]["id"] for h in paid_hooks] == [20, 11, 99, 10]  # each once
        assert all(h[3]["payment"]["amount_cents"] == 2040 for h in paid_hooks)
        assert [h[3]["parcel"]["id"] for h in rows["webhooks"] if h[2] == "parcel.lapsed"] == [22]
    minute = {e.data.get("id"): e.at for e in day("a") if e.type == "parcel"}  # the last
    assert expected["b"]["announcements"] == []  # type: ignore[index]
    assert expected["a"]["announcements"] == [  # type: ignore[index]
        ("TRK0010", 10, "collected", minute[10]),
        ("TRK0020", 20, "expired", minute[20]),
        ("TRK0022", 22, "lapsed", minute[22]),
    ]
    reset(hub_db)
    events = [e for s in STATIONS for e in day(s)]
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=15), label="repeats")
    stream = data.draw(st.permutations(events + repeats), label="stream")
    cuts = sorted(data.draw(st.sets(st.integers(1, len(stream) - 1), max_size=8), label="cuts"))
    ingest = Ingest(hub_db)
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        batch(ingest, stream[start:end])
    assert {s: rows_of(hub_db, s) for s in STATIONS} == expected
    with hub_db.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
    assert stored == len(events)  # each once, however often it came
    assert ingest.dropped == Counter()


def announce(db: HubDatabase, parcels: list[tuple[str, int]]) -> None:
    """DHL's announcements of these parcels (station, id), as routing writes them."""
    with db.engine.begin() as conn:
        for station, pid in parcels:
            conn.execute(
                sa.text(
                    "INSERT INTO carrier_announcements (carrier, tracking_number, station, size,"
                    " accessible, command_id, announced_at) VALUES ('DHL', :tn, :s, 'M', false,"
                    " :c, :at)"
                ),
                {"tn": f"TRK{pid:04d}", "s": station, "c": f"cmd-{station}-{pid}", "at": T0},
            )


def _has(db: HubDatabase, station: str) -> bool:
    with db.engine.connect() as conn:
        found = conn.execute(sa.text("SELECT 1 FROM stations WHERE name = :s"), {"s": station})
        return found.first() is not None


def test_a_replayed_batch_changes_nothing_row_by_row(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    ingest = Ingest(hub_db)
    assert batch(ingest, history()) == []
    once = dump(hub_db)
    assert batch(ingest, history() + history(), minutes=30) == []
    assert dump(hub_db) == once


def test_every_bad_message_in_a_batch_is_dropped_alone_and_counted(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    """The bad messages of the one-by-one test, all in one batch with good events between
    them: each is dropped for its own reason (a NUL character too, which PostgreSQL
    refuses only once the batch is written), and every good one goes in."""
    add_station(hub_db, "b", T0)
    good = history()
    messages: list[tuple[str, bytes]] = []
    for k, (_reason, where, payload) in enumerate(BAD):
        messages.append((where, payload))
        if k < len(good):
            messages.append((evt_topic(), good[k].payload()))
    taken = min(len(BAD), len(good))
    ingest = Ingest(hub_db)
    ingest_batch.handle(ingest, messages, T0)
    assert ingest.dropped == Counter(reason for reason, _, _ in BAD)
    assert sorted(dump(hub_db)["ingest_dropped"]) == sorted(
        Counter(reason for reason, _, _ in BAD).items()
    )
    assert state_of(hub_db).contiguous_seq == taken


def test_a_snapshot_between_events_of_one_batch_is_taken_in_its_place(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    ingest = Ingest(hub_db)
    e = history()
    later = [
        event("a", 22, "capacity", free={"S": 0, "M": 0, "L": 1}),
        event("a", 23, "bus", health={"bus0": {"frames": 300}}),
    ]
    messages = [(evt_topic(), x.payload()) for x in e[:3] + [e[15]]]  # a gap: 4..15
    messages.append((topic("a", "snap"), snapshot_after("a", 21).payload()))
    messages += [(evt_topic(), x.payload()) for x in later]
    ingest_batch.handle(ingest, messages, T0)
    v = views(hub_db)
    assert v["state"] == [(23, {"S": 0, "M": 0, "L": 1}, {"bus0": {"frames": 300}})]
    assert [p[3] for p in v["parcels"]] == ["stored", "announced"]


def test_workers_batches_over_the_same_stations_at_once_apply_every_event_in_order(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    """Four threads take batches of two stations' events turn about (as a shared
    subscription deals them out), so every batch locks both stations: the locks are taken
    in one order, no batch deadlocks, none is skipped or applied twice."""
    add_station(hub_db, "b", T0)
    total, threads, size = 600, 4, 25
    events = [
        event(s, seq, "capacity", free={"M": seq}) for seq in range(1, total + 1) for s in STATIONS
    ]
    chunks = [events[k : k + size] for k in range(0, len(events), size)]
    failures: list[BaseException] = []

    def work(k: int) -> None:
        ingest = Ingest(hub_db)
        try:
            for chunk in chunks[k::threads]:
                batch(ingest, chunk)
        except BaseException as exc:  # reported below
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert failures == []
    for station in STATIONS:
        state = state_of(hub_db, station)
        assert (state.contiguous_seq, state.free) == (total, {"M": total})
