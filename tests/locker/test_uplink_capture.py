"""Events for the fleet hub are captured from the station's own transactions: one per
change, numbered 1, 2, 3, … without gaps, committed with the change or not at all, and
never carrying a code or a recipient's personal data."""

from __future__ import annotations

import json
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from locker.layout import demo_layout
from locker.services import pickup, privacy, staff
from locker.station import Station, get_parcel
from locker.store.tables import OutboxEvent
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import ParcelState
from locker.uplink.capture import Capture, recount_capacity
from tests.locker.service_helpers import store
from tests.support import FakeClock, fresh_database, make_station, migrated_template


def hub_events(station: Station) -> list[tuple[int, str, dict[str, object]]]:
    with station.db.read() as session:
        rows = session.exec(
            select(OutboxEvent)
            .where(col(OutboxEvent.hub_seq).is_not(None))
            .order_by(col(OutboxEvent.hub_seq))
        ).all()
    return [(r.hub_seq or 0, r.event.removeprefix("hub."), json.loads(r.detail)) for r in rows]


def with_hub(station: Station) -> Station:
    station.db.capture = Capture("station-1", station.layout)
    return station


def test_without_a_hub_nothing_is_captured(station: Station, locks: InMemoryLocks) -> None:
    stored = store(station, locks)
    pickup.collect(station, code=stored.code.pin, terminal="kiosk")
    assert hub_events(station) == []


def test_a_deposit_and_a_collection_become_numbered_events(
    station: Station, locks: InMemoryLocks
) -> None:
    with_hub(station)
    assert recount_capacity(station.db, station.layout)  # what the uplink's sender does
    stored = store(station, locks)
    assert recount_capacity(station.db, station.layout)
    assert not recount_capacity(station.db, station.layout)  # nothing new: no event
    assert pickup.collect(station, code=stored.code.pin, terminal="kiosk").all_opened
    assert recount_capacity(station.db, station.layout)
    events = hub_events(station)
    assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
    states = [d["state"] for _, kind, d in events if kind == "parcel"]
    assert states == ["announced", "reserved", "stored", "collected"]
    doors = [d for _, kind, d in events if kind == "door"]
    assert [(d["purpose"], d["compartment_id"]) for d in doors] == [
        ("deposit", stored.compartment_id),
        ("collect", stored.compartment_id),
    ]
    size = get_parcel_size(station, stored.parcel_id)
    free = [d["free"][size] for _, kind, d in events if kind == "capacity"]  # type: ignore[index]
    assert free == [free[0], free[0] - 1, free[0]]  # all free; one taken; free again
    text = json.dumps(events)
    assert stored.code.pin not in text
    assert stored.code.qr_token not in text
    assert "Anna Berg" not in text  # the recipient's name stays on the station


def test_an_erasure_tells_the_hub_which_parcels_never_who(
    station: Station, locks: InMemoryLocks
) -> None:
    with_hub(station)
    stored = store(station, locks)
    with station.db.read() as session:
        number = get_parcel(session, stored.parcel_id).tracking_number
    pickup.collect(station, code=stored.code.pin, terminal="kiosk")
    report = privacy.erase_old_personal_data(station, keep_for=timedelta(0))
    assert report.parcels == (stored.parcel_id,)
    erased = [d for _, kind, d in hub_events(station) if kind == "erased"]
    assert erased == [
        {"parcels": [{"id": stored.parcel_id, "tracking_number": number, "carrier": "DHL"}]}
    ]
    assert "Anna Berg" not in json.dumps(hub_events(station))


def get_parcel_size(station: Station, parcel_id: int) -> str:
    with station.db.read() as session:
        size = get_parcel(session, parcel_id).size
    assert size is not None
    return size.value


def test_the_door_operations_transactions_do_not_recount_free_capacity(
    station: Station, locks: InMemoryLocks
) -> None:
    """The recount is the uplink sender's (off the door path): a deposit and a collection
    write their own events only."""
    with_hub(station)
    stored = store(station, locks)
    pickup.collect(station, code=stored.code.pin, terminal="kiosk")
    assert "capacity" not in {kind for _, kind, _ in hub_events(station)}


def test_a_change_rolled_back_leaves_no_event(station: Station, locks: InMemoryLocks) -> None:
    with_hub(station)
    stored = store(station, locks)
    before = hub_events(station)

    def failing_change() -> None:
        with station.db.write() as session:
            parcel = get_parcel(session, stored.parcel_id)
            parcel.state = ParcelState.EXPIRED
            session.add(parcel)
            session.flush()  # the event is written here, in this transaction
            raise RuntimeError("the change fails after its flush")

    with pytest.raises(RuntimeError):
        failing_change()
    assert hub_events(station) == before


def test_alerts_and_compartments_are_captured(station: Station, locks: InMemoryLocks) -> None:
    with_hub(station)
    staff.set_out_of_service(station, actor="staff:eva", compartment_id=3, reason="hinge")
    staff.clear_fault(station, actor="staff:eva", compartment_id=3)
    kinds = [(kind, d.get("condition")) for _, kind, d in hub_events(station)]
    assert ("compartment", "out_of_service") in kinds
    assert ("compartment", "ok") in kinds


def test_parallel_writers_never_share_or_skip_a_number(
    station: Station, locks: InMemoryLocks
) -> None:
    with_hub(station)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for _ in range(3):
                staff.set_out_of_service(
                    station, actor=f"staff:{n}", compartment_id=n + 1, reason="test"
                )
                staff.clear_fault(station, actor=f"staff:{n}", compartment_id=n + 1)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = [seq for seq, _, _ in hub_events(station)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= 36  # each change of condition, at least


@settings(max_examples=15, deadline=None)
@given(st.lists(st.sampled_from(["store", "collect", "oos"]), min_size=1, max_size=8))
def test_the_numbers_have_no_gaps_whatever_happens(actions: list[str]) -> None:

    with tempfile.TemporaryDirectory() as folder:
        locks = InMemoryLocks([spec.id for spec in demo_layout().compartments])
        db = fresh_database(migrated_template(), Path(folder))
        station = with_hub(make_station(db, demo_layout(), locks, FakeClock()))
        pins: list[str] = []
        try:
            for action in actions:
                if action == "store":
                    pins.append(store(station, locks).code.pin)
                elif action == "collect" and pins:
                    pickup.collect(station, code=pins.pop(), terminal="kiosk")
                elif action == "oos":
                    staff.set_out_of_service(station, actor="s", compartment_id=32, reason="x")
            seqs = [seq for seq, _, _ in hub_events(station)]
            assert seqs == list(range(1, len(seqs) + 1))
        finally:
            db.close()
