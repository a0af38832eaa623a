"""Ingest a batch at a time (fleet.ingest_batch) against a real PostgreSQL: whatever the
batches, the order and the repeats, the hub ends as the events taken one by one in order;
a bad message in a batch is dropped alone; workers' batches over the same stations at
once neither deadlock nor skip."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet import ingest_batch
from fleet.db import HubDatabase
from fleet.ingest import Ingest
from fleet.registry import StationCredentials, add_station
from locker.uplink.messages import Event, topic
from tests.fleet.hub.support import T0, dump, event, evt_topic, history, snapshot_after, views
from tests.fleet.hub.test_ingest import BAD, state_of

STATIONS = ("a", "b")


def batch(ingest: Ingest, events: list[Event], minutes: float = 0) -> list[object]:
    messages = [(evt_topic(e.station), e.payload()) for e in events]
    return list(ingest_batch.handle(ingest, messages, T0 + timedelta(minutes=minutes)))


def reset(db: HubDatabase) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE events, parcels, compartments, alerts, commands"))
        conn.execute(sa.text("TRUNCATE ingest_dropped, carrier_webhooks"))
        conn.execute(
            sa.text(
                "UPDATE station_state SET contiguous_seq = 0, station_last_seq = 0, free = '{}',"
                " accessible_free = '{}', bus = '{}', gap_from = NULL, gap_seen_at = NULL,"
                " resend_from = NULL, resend_asked_at = NULL"
            )
        )


def in_order(db: HubDatabase) -> dict[str, object]:
    """What one by one, in order, leaves of each station."""
    reset(db)
    ingest = Ingest(db)
    for station in STATIONS:
        for e in history(station):
            ingest.handle(evt_topic(station), e.payload(), T0)
    return {station: views(db, station) for station in STATIONS}


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
    expected = in_order(hub_db)
    reset(hub_db)
    events = [e for s in STATIONS for e in history(s)]
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=15), label="repeats")
    stream = data.draw(st.permutations(events + repeats), label="stream")
    cuts = sorted(data.draw(st.sets(st.integers(1, len(stream) - 1), max_size=8), label="cuts"))
    ingest = Ingest(hub_db)
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        batch(ingest, stream[start:end])
    assert {s: views(hub_db, s) for s in STATIONS} == expected
    with hub_db.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
    assert stored == len(events)  # each once, however often it came
    assert ingest.dropped == Counter()


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
