"""Ingest against a real PostgreSQL: exactly once, in seq order, gaps, snapshots, bad input."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fleet import commands
from fleet.db import HubDatabase
from fleet.ingest import Ingest
from fleet.registry import StationCredentials, add_station
from fleet.tables import CommandRow, StationState
from locker.uplink.messages import Command, CommandResult, Presence, Problem, topic
from tests.fleet.hub.support import (
    T0,
    birth,
    dump,
    event,
    evt_topic,
    history,
    parcel,
    snapshot_after,
    views,
)


def feed(ingest: Ingest, events: list, minutes: float = 0) -> list[Command]:
    out: list[Command] = []
    for e in events:
        out += ingest.handle(evt_topic(e.station), e.payload(), T0 + timedelta(minutes=minutes))
    return out


def state_of(db: HubDatabase, station: str = "a") -> StationState:
    with db.transaction() as session:
        return session.get_one(StationState, station)


def test_a_duplicate_event_is_stored_once_and_applied_once(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    ingest = Ingest(hub_db)
    first = event("a", 1, "parcel", **parcel(7, "announced", None))
    assert ingest.handle(evt_topic(), first.payload(), T0) == []
    before = dump(hub_db)
    assert ingest.handle(evt_topic(), first.payload(), T0 + timedelta(minutes=5)) == []
    assert dump(hub_db) == before  # not even received_at moved
    with hub_db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM parcels")).scalar_one() == 1


def test_another_event_under_a_seq_the_hub_has_is_not_taken_and_is_counted(
    hub_db: HubDatabase, station_a: StationCredentials, caplog: pytest.LogCaptureFixture
) -> None:
    """A station whose numbering went back (its database put back from a backup) sends
    new events under old numbers: the hub keeps its own and says so."""
    ingest = Ingest(hub_db)
    feed(ingest, history()[:3])
    before = views(hub_db)
    other = event("a", 2, "capacity", free={"S": 9}).model_copy(update={"id": "f" * 32})
    assert ingest.handle(evt_topic(), other.payload(), T0) == []
    assert views(hub_db) == before
    assert dump(hub_db)["ingest_dropped"] == [("seq_reused", 1)]
    assert "another event" in caplog.text


def test_the_whole_history_replayed_twice_changes_nothing_row_by_row(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    ingest = Ingest(hub_db)
    events = history()
    assert feed(ingest, events) == []
    once = dump(hub_db)
    assert feed(ingest, events, minutes=30) == []
    assert feed(ingest, list(reversed(events)), minutes=60) == []
    assert dump(hub_db) == once
    assert len(once["events"]) == len(events)
    assert views(hub_db) == {
        "parcels": [
            (10, "TRK0010", "DHL", "stored", "M", 2, T0 + timedelta(days=7), False),
            (11, "TRK0011", "DHL", "announced", "M", None, T0 + timedelta(days=7), False),
        ],
        "compartments": [(1, "S", "free"), (2, "M", "occupied"), (3, "L", "out_of_service")],
        "alerts": [("board_gone", None, "bus0/1", T0 + timedelta(minutes=18))],
        "state": [(21, {"S": 1, "M": 0, "L": 1}, {"bus0": {"frames": 240, "timeouts": 2}})],
    }


def test_events_in_any_order_end_as_the_events_in_order(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    ingest = Ingest(hub_db)
    feed(ingest, history())
    in_order = views(hub_db)
    for seed in range(3):
        with hub_db.engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE events, parcels, compartments, alerts, commands"))
            conn.execute(sa.text("UPDATE station_state SET contiguous_seq = 0, free = '{}'"))
            conn.execute(sa.text("UPDATE station_state SET bus = '{}', station_last_seq = 0"))
        shuffled = history() * 2
        random.Random(seed).shuffle(shuffled)
        feed(ingest, shuffled)
        assert views(hub_db) == in_order, seed


def test_an_event_beyond_a_gap_waits_and_the_gap_is_asked_for_signed(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    ingest = Ingest(hub_db, resend_every=timedelta(seconds=5))
    e = history()
    assert feed(ingest, e[:4]) == []
    asked = ingest.handle(evt_topic(), e[5].payload(), T0)  # 6 before 5
    assert [(c.type, c.args) for c in asked] == [("resend", {"from_seq": 5})]
    assert asked[0].verify(bytes.fromhex(station_a.command_key))
    assert (asked[0].station, asked[0].by) == ("a", "hub")
    assert state_of(hub_db).contiguous_seq == 4
    assert views(hub_db)["parcels"] == []  # 6 (parcel 10 reserved) waits for 5
    # More beyond the same gap, within a few seconds: not asked again.
    assert ingest.handle(evt_topic(), e[6].payload(), T0 + timedelta(seconds=4)) == []
    # Later, the same gap is asked again.
    again = ingest.handle(evt_topic(), e[7].payload(), T0 + timedelta(seconds=6))
    assert [(c.type, c.args) for c in again] == [("resend", {"from_seq": 5})]
    # The resends are commands the station will answer.
    with hub_db.transaction() as session:
        assert session.get_one(CommandRow, asked[0].id).state == "sent"
    # The missing one comes: everything stored so far is applied in order.
    assert ingest.handle(evt_topic(), e[4].payload(), T0 + timedelta(seconds=7)) == []
    state = state_of(hub_db)
    assert (state.contiguous_seq, state.resend_from) == (8, None)
    assert views(hub_db)["parcels"] == [
        (10, "TRK0010", "DHL", "reserved", "M", 2, T0 + timedelta(days=7), False)
    ]


def test_a_gap_still_open_is_asked_for_again_by_the_sweep(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    ingest = Ingest(hub_db, resend_every=timedelta(seconds=5))
    e = history()
    feed(ingest, [e[0], e[2]])
    assert ingest.sweep(T0 + timedelta(seconds=1)) == []  # just asked
    swept = ingest.sweep(T0 + timedelta(seconds=5))
    assert [(c.type, c.args) for c in swept] == [("resend", {"from_seq": 2})]
    feed(ingest, [e[1]])
    assert ingest.sweep(T0 + timedelta(minutes=5)) == []


def test_a_gap_is_asked_for_only_once_it_has_stayed_open_a_moment(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    """Two workers take a station's events turn about: 3 may be in before 2 is."""
    ingest = Ingest(hub_db, gap_grace=timedelta(seconds=2), resend_every=timedelta(seconds=5))
    e = history()
    at = [T0 + timedelta(seconds=s) for s in range(6)]
    assert ingest.handle(evt_topic(), e[0].payload(), at[0]) == []
    assert ingest.handle(evt_topic(), e[2].payload(), at[0]) == []  # 2 is missing
    assert ingest.handle(evt_topic(), e[1].payload(), at[1]) == []  # and here it is
    assert state_of(hub_db).contiguous_seq == 3
    assert ingest.handle(evt_topic(), e[4].payload(), at[2]) == []  # 4 is missing
    assert ingest.sweep(at[3]) == []
    assert [(c.type, c.args) for c in ingest.sweep(at[4])] == [("resend", {"from_seq": 4})]
    assert ingest.handle(evt_topic(), e[5].payload(), at[5]) == []  # asked already
    with hub_db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM commands")).scalar_one() == 1


def test_a_birth_beyond_what_the_hub_has_asks_for_the_rest(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    ingest = Ingest(hub_db)
    feed(ingest, history()[:3])
    assert ingest.handle(topic("a", "state"), birth("a", 3).payload(), T0) == []
    state = state_of(hub_db)
    assert (state.online, state.last_seen, state.boot) == (True, T0, "boot-1")
    later = T0 + timedelta(minutes=1)
    asked = ingest.handle(topic("a", "state"), birth("a", 9, "boot-2").payload(), later)
    assert [(c.type, c.args) for c in asked] == [("resend", {"from_seq": 4})]
    will = Presence(station="a", online=False)
    assert ingest.handle(topic("a", "state"), will.payload(), later + timedelta(hours=1)) == []
    state = state_of(hub_db)
    assert (state.online, state.last_seen, state.boot) == (False, later, "boot-2")


def test_a_station_coming_online_gets_its_unanswered_commands_again(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    ingest = Ingest(hub_db)
    with hub_db.transaction() as session:
        given = [
            commands.issue(
                session, "a", "revoke_courier", commands.RevokeCourierArgs(name=n), by="ada", now=T0
            )
            for n in ("dhl-1", "dhl-2")
        ]
        old = commands.issue(
            session,
            "a",
            "snapshot",
            commands.SnapshotArgs(),
            by="ada",
            now=T0 - timedelta(days=8),
        )
    assert old not in given
    again = ingest.handle(topic("a", "state"), birth("a", 0).payload(), T0 + timedelta(hours=1))
    assert again == given  # the same ids, arguments and signatures, oldest first
    assert all(c.verify(bytes.fromhex(station_a.command_key)) for c in again)
    answer = CommandResult(command_id=given[0].id, station="a", ok=True, at=T0)
    ingest.handle(topic("a", "res"), answer.payload(), T0)
    later = ingest.handle(topic("a", "state"), birth("a", 0).payload(), T0 + timedelta(hours=2))
    assert later == given[1:]


def test_a_snapshot_replaces_the_views_and_later_events_apply_on_top(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    ingest = Ingest(hub_db)
    e = history()
    feed(ingest, e[:10])
    stray = event("a", 23, "parcel", **parcel(11, "reserved", 1))
    assert ingest.handle(evt_topic(), stray.payload(), T0)  # 11..22 missing: resend
    # The station's snapshot as of 21: events 11..21 are covered, 22 is still missing.
    answer = ingest.handle(topic("a", "snap"), snapshot_after("a", 21).payload(), T0)
    assert [(c.type, c.args) for c in answer] == [("resend", {"from_seq": 22})]
    assert state_of(hub_db).contiguous_seq == 21
    full = Ingest(hub_db)
    assert views(hub_db)["compartments"] == [
        (1, "S", "free"),
        (2, "M", "occupied"),
        (3, "L", "out_of_service"),
    ]
    assert views(hub_db)["parcels"][1][3] == "announced"
    ping = event("a", 22, "bus", health={"bus0": {"frames": 300}})
    assert full.handle(evt_topic(), ping.payload(), T0) == []  # 22, then 23 on top
    v = views(hub_db)
    assert v["state"] == [(23, {"S": 1, "M": 0, "L": 1}, {"bus0": {"frames": 300}})]
    assert v["parcels"][1][3:6] == ("reserved", "M", 1)


def test_a_snapshot_equals_the_history_it_sums_up(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    add_station(hub_db, "b", T0)
    ingest = Ingest(hub_db)
    feed(ingest, history("a"))
    ingest.handle(topic("b", "snap"), snapshot_after("b", 21).payload(), T0)
    assert views(hub_db, "a") == views(hub_db, "b")
    # An older snapshot than the hub's state changes nothing.
    before = dump(hub_db)
    assert ingest.handle(topic("b", "snap"), snapshot_after("b", 12).payload(), T0) == []
    assert dump(hub_db) == before


BAD = [
    ("not_json", topic("a", "evt"), b"\xff{not json"),
    ("bad_schema", topic("a", "evt"), json.dumps({"seq": 1}).encode()),
    ("bad_schema", topic("a", "evt"), b"[1, 2]"),
    ("bad_schema", topic("a", "state"), b'{"station": "a", "online": "maybe?"}'),
    ("unknown_station", topic("zz", "evt"), event("zz", 1, "bus", health={}).payload()),
    ("station_mismatch", topic("a", "evt"), event("b", 1, "bus", health={}).payload()),
    ("station_mismatch", topic("a", "state"), birth("b", 1).payload()),
    ("unstorable", topic("a", "evt"), event("a", 1, "door", note="\u0000").payload()),
    (
        "unstorable",
        topic("a", "evt"),
        event("a", 1, "door").model_copy(update={"seq": 2**63}).payload(),
    ),
    (
        "carries_code",
        topic("a", "evt"),
        event("a", 1, "parcel", **parcel(1, "stored", 2, pin="12345678")).payload(),
    ),
    ("carries_code", topic("a", "evt"), event("a", 1, "door", by={"QR_token": "x"}).payload()),
    ("unknown_topic", topic("a", "cmd"), b"{}"),
    ("unknown_topic", "somewhere/else", b"{}"),
    (
        "unknown_command",
        topic("a", "res"),
        CommandResult(command_id="nope1234", station="a", ok=True, at=T0).payload(),
    ),
]


@pytest.mark.parametrize(("reason", "where", "payload"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_payload_is_dropped_counted_and_the_next_one_goes_in(
    hub_db: HubDatabase,
    station_a: StationCredentials,
    reason: str,
    where: str,
    payload: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ingest = Ingest(hub_db)
    before = dump(hub_db, "ingest_dropped")
    assert ingest.handle(where, payload, T0) == []
    assert ingest.handle(where, payload, T0) == []
    assert dump(hub_db, "ingest_dropped") == before
    assert ingest.dropped == {reason: 2}
    assert dump(hub_db)["ingest_dropped"] == [(reason, 2)]
    assert reason in caplog.text
    good = event("a", 1, "bus", health={"bus0": {}})
    assert ingest.handle(evt_topic(), good.payload(), T0) == []
    assert state_of(hub_db).contiguous_seq == 1


def test_an_event_with_unreadable_data_is_kept_and_the_chain_goes_on(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    ingest = Ingest(hub_db)
    odd = event("a", 1, "parcel", id="not a number")
    feed(ingest, [odd, event("a", 2, "capacity", free={"S": 3})])
    assert state_of(hub_db).contiguous_seq == 2
    assert state_of(hub_db).free == {"S": 3}
    assert dump(hub_db)["ingest_dropped"] == [("bad_event_data", 1)]


def test_a_command_result_is_recorded_once(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    ingest = Ingest(hub_db)
    with hub_db.transaction() as session:
        given = commands.issue(
            session,
            "a",
            "out_of_service",
            commands.OutOfServiceArgs(compartment_id=3, reason="hinge"),
            by="olga",
            now=T0,
        )
    refused = CommandResult(
        command_id=given.id,
        station="a",
        ok=False,
        problem=Problem(code="compartment_not_found", detail="no 3"),
        at=T0 + timedelta(seconds=2),
    )
    assert ingest.handle(topic("a", "res"), refused.payload(), T0) == []
    late = CommandResult(command_id=given.id, station="a", ok=True, at=T0)
    assert ingest.handle(topic("a", "res"), late.payload(), T0) == []
    with hub_db.transaction() as session:
        row = session.get_one(CommandRow, given.id)
    assert (row.state, row.problem_code, row.problem_detail) == (
        "refused",
        "compartment_not_found",
        "no 3",
    )
    assert row.answered_at == T0 + timedelta(seconds=2)
    # Another station cannot answer a's command.
    add_station(hub_db, "b", T0)
    forged = CommandResult(command_id=given.id, station="b", ok=True, at=T0)
    assert ingest.handle(topic("b", "res"), forged.payload(), T0) == []
    assert ingest.dropped == {"unknown_command": 1}


def test_several_workers_on_one_station_at_once_apply_every_event_in_order(
    hub_db: HubDatabase, station_a: StationCredentials
) -> None:
    """Four threads (four workers' worth of connections) take a station's events turn
    about: each station's row is locked per message, so none is skipped or applied twice."""
    import threading

    total, threads = 400, 4
    events = [event("a", seq, "capacity", free={"M": seq}) for seq in range(1, total + 1)]
    ingests = [Ingest(hub_db) for _ in range(threads)]
    failures: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for e in events[k::threads]:
                ingests[k].handle(evt_topic(), e.payload(), T0)
        except BaseException as exc:  # reported below
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert failures == []
    state = state_of(hub_db)
    assert (state.contiguous_seq, state.free) == (total, {"M": total})
