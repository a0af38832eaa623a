"""The door watcher (stores closed deposits, alerts on doors left open), grouped codes,
reissued codes, the code handover, and where a compartment is."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from locker.alerts import open_alerts
from locker.errors import CodeInvalid
from locker.front import locate
from locker.handover import CodeHandover
from locker.layout import demo_layout
from locker.locks import DoorOutcome
from locker.services import deposit, pickup, staff
from locker.services.intake import ParcelInput, Stored
from locker.services.watch import DoorWatch
from locker.station import Station, get_parcel
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import AlertKind, CompartmentId, ParcelState, SizeClass
from tests.support import FakeClock, fresh_database, make_station, migrated_template

COURIER = "courier:test"
NUMBERS = itertools.count(1)  # one tracking number is one live parcel


def _deposit(station: Station, locks: InMemoryLocks, email: str | None = None) -> int:
    data = ParcelInput(
        carrier="DHL",
        tracking_number=f"T{next(NUMBERS)}",
        recipient_name="Ada",
        recipient_email=email,
        size=SizeClass.S,
    )
    held = deposit.reserve(station, actor=COURIER, parcel=data)
    assert deposit.deposit(station, actor=COURIER, parcel_id=held.parcel_id).opened
    locks.put(held.compartment_id)
    return held.parcel_id


def _compartment(station: Station, parcel_id: int) -> int:
    with station.db.read() as session:
        cid = get_parcel(session, parcel_id).compartment_id
    assert cid is not None
    return cid


def test_the_watcher_stores_a_deposit_once_its_door_is_closed(
    station: Station, locks: InMemoryLocks
) -> None:
    watch = DoorWatch(station)
    pid = _deposit(station, locks)
    assert watch.tick().stored == ()  # the door is still open
    locks.close(_compartment(station, pid))
    report = watch.tick()
    assert [s.parcel_id for s in report.stored] == [pid]
    assert watch.tick().stored == ()  # stored once


@pytest.fixture
def blind_station(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Station, InMemoryLocks]]:
    """A station whose boards have no IR strips: they cannot tell an empty compartment."""
    locks = InMemoryLocks([spec.id for spec in demo_layout().compartments], ir_sensors=False)
    db = fresh_database(migrated_template(), tmp_path)
    yield make_station(db, demo_layout(), locks, clock), locks
    db.close()


def _silent_deposit(station: Station, locks: InMemoryLocks) -> tuple[int, int]:
    data = ParcelInput(carrier="DHL", tracking_number="T9", recipient_name="Bo", size=SizeClass.S)
    held = deposit.reserve(station, actor=COURIER, parcel=data)
    locks.mute(held.compartment_id)
    result = deposit.deposit(station, actor=COURIER, parcel_id=held.parcel_id)
    assert result.outcome is DoorOutcome.NO_ANSWER
    locks.mute(held.compartment_id, False)  # the board answers reads again
    return held.parcel_id, held.compartment_id


def test_a_deposit_whose_door_may_not_have_opened_is_stored_only_once_seen_open(
    blind_station: tuple[Station, InMemoryLocks],
) -> None:
    station, locks = blind_station
    watch = DoorWatch(station)
    pid, cid = _silent_deposit(station, locks)
    assert locks.is_latched(cid)  # the door never opened: the compartment is empty
    for _ in range(3):
        assert watch.tick().stored == ()  # a shut door proves nothing here
    with station.db.read() as session:
        assert get_parcel(session, pid).state is ParcelState.RESERVED

    # the courier reports the door would not open: the parcel may go elsewhere
    assert deposit.report_stuck_door(station, actor=COURIER, parcel_id=pid) == cid
    with station.db.read() as session:
        assert get_parcel(session, pid).state is ParcelState.ANNOUNCED


def test_a_silent_board_whose_door_did_open_stores_after_the_door_is_closed(
    blind_station: tuple[Station, InMemoryLocks],
) -> None:
    station, locks = blind_station
    watch = DoorWatch(station)
    pid, cid = _silent_deposit(station, locks)
    locks.open(CompartmentId(cid))  # the unlock worked; only its answer was lost
    assert watch.tick().stored == ()  # seen open: from now on a shut door means stored
    locks.put(cid)
    locks.close(cid)
    assert [s.parcel_id for s in watch.tick().stored] == [pid]
    with station.db.read() as session:
        assert get_parcel(session, pid).state is ParcelState.STORED
        assert get_parcel(session, pid).door_unconfirmed is False


def test_with_ir_strips_a_parcel_seen_inside_is_stored_even_if_the_door_was_missed(
    station: Station, locks: InMemoryLocks
) -> None:
    watch = DoorWatch(station)
    pid, cid = _silent_deposit(station, locks)
    assert watch.tick().stored == ()  # shut and empty: nothing to store
    locks.open(CompartmentId(cid))
    locks.put(cid)
    locks.close(cid)  # opened and shut between two ticks
    assert [s.parcel_id for s in watch.tick().stored] == [pid]


def test_a_door_left_open_raises_one_alert_that_closing_clears(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    watch = DoorWatch(station, left_open_after=timedelta(minutes=2))
    staff.open_door(station, actor="staff:mia", compartment_id=7, reason="cleaning")
    assert watch.tick().left_open == ()
    clock.advance(minutes=1)
    assert watch.tick().left_open == ()
    clock.advance(minutes=2)
    assert watch.tick().left_open == (7,)
    assert watch.tick().left_open == ()  # not twice
    with station.db.read() as session:
        kinds = [(a.kind, a.compartment_id) for a in open_alerts(session)]
    assert kinds == [(AlertKind.DOOR_LEFT_OPEN, 7)]
    locks.close(7)
    assert DoorWatch(station).tick().closed_again == (7,)  # also after a restart
    with station.db.read() as session:
        assert list(open_alerts(session)) == []


def test_a_door_that_does_not_open_raises_a_fault_alert_until_cleared(
    station: Station, locks: InMemoryLocks
) -> None:
    locks.jam(3)
    assert not staff.open_door(station, actor="staff:mia", compartment_id=3, reason="x").opened
    with station.db.read() as session:
        assert [(a.kind, a.compartment_id) for a in open_alerts(session)] == [
            (AlertKind.DOOR_FAULT, 3)
        ]
    staff.clear_fault(station, actor="staff:mia", compartment_id=3)
    with station.db.read() as session:
        assert list(open_alerts(session)) == []


def _store(station: Station, locks: InMemoryLocks, email: str | None) -> Stored:
    pid = _deposit(station, locks, email)
    locks.close(_compartment(station, pid))
    return deposit.confirm_stored(station, parcel_id=pid)


def test_the_newest_code_of_a_recipient_opens_all_their_parcels(
    station: Station, locks: InMemoryLocks
) -> None:
    first = _store(station, locks, "ada@example.org")
    other = _store(station, locks, "bob@example.org")
    second = _store(station, locks, "ADA@example.org ")
    assert second.opens == (second.parcel_id, first.parcel_id)
    assert other.opens == (other.parcel_id,)
    opened = pickup.collect(station, code=second.code.pin, terminal="kiosk")
    assert sorted(d.compartment_id for d in opened.doors) == sorted(
        [first.compartment_id, second.compartment_id]
    )
    with pytest.raises(CodeInvalid):  # nothing left for the older code
        pickup.collect(station, code=first.code.pin, terminal="kiosk")


def test_an_older_code_opens_only_its_own_parcel(station: Station, locks: InMemoryLocks) -> None:
    first = _store(station, locks, "ada@example.org")
    second = _store(station, locks, "ada@example.org")
    opened = pickup.collect(station, code=first.code.qr_token, terminal="kiosk")
    assert [d.compartment_id for d in opened.doors] == [first.compartment_id]
    opened = pickup.collect(station, code=second.code.pin, terminal="kiosk")
    assert [d.compartment_id for d in opened.doors] == [second.compartment_id]


def test_a_reissued_code_replaces_the_old_one(station: Station, locks: InMemoryLocks) -> None:
    stored = _store(station, locks, None)
    fresh = staff.reissue_code(station, actor="staff:mia", parcel_id=stored.parcel_id)
    assert fresh.code.pin != stored.code.pin
    with pytest.raises(CodeInvalid):
        pickup.collect(station, code=stored.code.pin, terminal="kiosk")
    opened = pickup.collect(station, code=fresh.code.pin, terminal="kiosk")
    assert [d.compartment_id for d in opened.doors] == [stored.compartment_id]


def test_the_handover_gives_a_code_once_and_forgets_it_in_time() -> None:
    now = [0.0]
    handover = CodeHandover(60, clock=lambda: now[0], limit=2)
    items = [Stored(pid, pid, None, None, (pid,)) for pid in (1, 2, 3)]  # type: ignore[arg-type]
    for item in items:
        handover.put(item)
    assert len(handover) == 2  # the oldest was dropped
    assert handover.take(1) is None
    assert handover.take(2) is items[1]
    assert handover.take(2) is None
    now[0] = 61
    assert handover.take(3) is None


def test_a_waiting_request_gets_the_code_the_moment_the_watcher_leaves_it() -> None:
    handover = CodeHandover(60)
    item = Stored(7, 7, None, None, (7,))  # type: ignore[arg-type]
    taken: list[Stored | None] = []
    waiter = threading.Thread(target=lambda: taken.append(handover.take(7, wait_s=30)))
    waiter.start()
    handover.put(Stored(8, 8, None, None, (8,)))  # type: ignore[arg-type]  (not its parcel)
    handover.put(item)
    waiter.join()
    assert taken == [item]
    assert handover.take(7) is None  # handed over once
    assert handover.take(9, wait_s=0.01) is None  # nothing comes: it gives up


def test_locations_read_as_a_person_sees_the_front() -> None:
    layout = demo_layout()
    top = locate(layout, 1)
    assert (top.column, top.row, top.height) == (1, 1, "top")
    assert top.text == "first column from the left, top"
    bottom = locate(layout, 16)
    assert (bottom.column, bottom.height) == (2, "bottom")
    assert locate(layout, 13).text == "second column from the left, fifth from the top"
