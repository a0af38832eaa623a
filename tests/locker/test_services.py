"""The services on a real SQLite file with in-memory doors."""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from locker.audit import entries
from locker.errors import (
    CodeInvalid,
    DoorBusy,
    DoorNotClosed,
    InvalidTransition,
    NoFreeCompartment,
    ParcelNotDetected,
    ReasonRequired,
    TooManyAttempts,
)
from locker.locks import DoorOutcome, DoorReading
from locker.services import deadlines, deposit, pickup, staff
from locker.station import Station
from locker.store.tables import Parcel
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import CompartmentId, CompartmentState, ParcelState, SizeClass
from tests.locker.service_helpers import COURIER, actions, comp_state, parcel, state_of, store
from tests.support import FakeClock


def test_deposit_store_collect_with_pin(station: Station, locks: InMemoryLocks) -> None:
    stored = store(station, locks)
    cid = stored.compartment_id
    assert comp_state(station, cid) is CompartmentState.OCCUPIED
    assert len(stored.code.pin) == 10
    assert locks.pulses(cid) == 1
    result = pickup.collect(station, code=stored.code.pin, terminal="kiosk")
    assert result.all_opened
    assert [d.compartment_id for d in result.doors] == [cid]
    assert locks.pulses(cid) == 2
    assert state_of(station, stored.parcel_id) is ParcelState.COLLECTED
    assert comp_state(station, cid) is CompartmentState.FREE
    assert actions(station, stored.parcel_id) == [
        "parcel.announced",
        "parcel.reserved",
        "door.opened",  # for the deposit
        "parcel.stored",
        "door.opened",  # for the collection
        "parcel.collected",
    ]


def test_collect_with_qr_token_and_the_code_is_single_use(
    station: Station, locks: InMemoryLocks
) -> None:
    stored = store(station, locks)
    assert pickup.collect(station, code=stored.code.qr_token, terminal="kiosk").all_opened
    for code in (stored.code.qr_token, stored.code.pin):
        with pytest.raises(CodeInvalid):
            pickup.collect(station, code=code, terminal="kiosk")
    assert locks.pulses(stored.compartment_id) == 2


def test_unknown_used_and_expired_codes_look_the_same(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    used, expiring = store(station, locks), store(station, locks)
    pickup.collect(station, code=used.code.pin, terminal="a")
    clock.advance(days=8)
    staff.expire(station)
    messages = set()
    for code in ("0000000000", used.code.pin, expiring.code.pin):
        with pytest.raises(CodeInvalid) as caught:
            pickup.collect(station, code=code, terminal=f"t{code}")
        messages.add((caught.value.code, caught.value.message))
    assert len(messages) == 1
    assert locks.pulses(expiring.compartment_id) == 1  # only the courier's opening


def test_door_must_be_closed_and_parcel_inside_before_stored(
    station: Station, locks: InMemoryLocks
) -> None:
    reservation = deposit.reserve(station, actor=COURIER, parcel=parcel())
    with pytest.raises(InvalidTransition, match="not deposited"):
        deposit.confirm_stored(station, parcel_id=reservation.parcel_id)
    deposit.deposit(station, actor=COURIER, parcel_id=reservation.parcel_id)
    with pytest.raises(DoorNotClosed):
        deposit.confirm_stored(station, parcel_id=reservation.parcel_id)
    locks.close(reservation.compartment_id)
    with pytest.raises(ParcelNotDetected):
        deposit.confirm_stored(station, parcel_id=reservation.parcel_id)
    assert state_of(station, reservation.parcel_id) is ParcelState.RESERVED


def test_jammed_door_at_deposit_faults_the_compartment_and_frees_the_parcel(
    station: Station, locks: InMemoryLocks
) -> None:
    first = deposit.reserve(station, actor=COURIER, parcel=parcel())
    locks.jam(first.compartment_id)
    result = deposit.deposit(station, actor=COURIER, parcel_id=first.parcel_id)
    assert result.outcome is DoorOutcome.REFUSED
    assert comp_state(station, first.compartment_id) is CompartmentState.FAULT
    assert state_of(station, first.parcel_id) is ParcelState.ANNOUNCED
    again = deposit.reserve(station, actor=COURIER, parcel_id=first.parcel_id)
    assert again.compartment_id != first.compartment_id
    assert actions(station, first.parcel_id)[-2:] == ["parcel.released", "parcel.reserved"]


def test_silent_board_at_deposit_is_no_answer(station: Station, locks: InMemoryLocks) -> None:
    reservation = deposit.reserve(station, actor=COURIER, parcel=parcel())
    locks.mute(reservation.compartment_id)
    result = deposit.deposit(station, actor=COURIER, parcel_id=reservation.parcel_id)
    assert result.outcome is DoorOutcome.NO_ANSWER
    assert comp_state(station, reservation.compartment_id) is CompartmentState.FAULT


def test_door_that_will_not_open_for_the_customer_keeps_parcel_and_code(
    station: Station, locks: InMemoryLocks
) -> None:
    stored = store(station, locks)
    locks.jam(stored.compartment_id)
    result = pickup.collect(station, code=stored.code.pin, terminal="kiosk")
    assert result.doors[0].outcome is DoorOutcome.REFUSED
    assert state_of(station, stored.parcel_id) is ParcelState.STORED
    assert comp_state(station, stored.compartment_id) is CompartmentState.FAULT
    locks.jam(stored.compartment_id, False)
    assert pickup.collect(station, code=stored.code.pin, terminal="kiosk").all_opened
    assert state_of(station, stored.parcel_id) is ParcelState.COLLECTED


def test_two_mistakes_then_the_right_code_opens_at_once(
    station: Station, locks: InMemoryLocks
) -> None:
    stored = store(station, locks)
    for _ in range(2):
        with pytest.raises(CodeInvalid):
            pickup.collect(station, code="1111111111", terminal="kiosk")
    assert pickup.collect(station, code=stored.code.pin, terminal="kiosk").all_opened


def test_guessing_is_slowed_down_more_and_more(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    stored = store(station, locks)
    for _ in range(3):
        with pytest.raises(CodeInvalid):
            pickup.collect(station, code="1111111111", terminal="kiosk")
    with pytest.raises(TooManyAttempts) as caught:
        pickup.collect(station, code=stored.code.pin, terminal="kiosk")
    assert caught.value.retry_after == 30
    clock.advance(seconds=30)
    with pytest.raises(CodeInvalid):
        pickup.collect(station, code="1111111111", terminal="kiosk")
    with pytest.raises(TooManyAttempts) as caught:
        pickup.collect(station, code="1111111111", terminal="kiosk")
    assert caught.value.retry_after == 60
    # another terminal is not held up by this one
    assert pickup.collect(station, code=stored.code.pin, terminal="other").all_opened


def test_station_wide_cap_holds_across_terminals(station: Station, clock: FakeClock) -> None:
    limits = replace(station.policy.attempts, station_failures_per_hour=5)
    station.policy = replace(station.policy, attempts=limits)
    for i in range(5):
        with pytest.raises(CodeInvalid):
            pickup.collect(station, code="1111111111", terminal=f"t{i}")
    with pytest.raises(TooManyAttempts) as caught:
        pickup.collect(station, code="1111111111", terminal="fresh")
    assert caught.value.retry_after == 3600
    clock.advance(hours=1)
    with pytest.raises(CodeInvalid):
        pickup.collect(station, code="1111111111", terminal="fresh")


class SlowLocks(InMemoryLocks):
    """Doors that take until ``release`` is set to open, to make two requests overlap."""

    def __init__(self, compartments: list[int]) -> None:
        super().__init__(compartments)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.slow = False

    def open(self, compartment: CompartmentId) -> DoorOutcome:
        if self.slow:
            self.entered.set()
            self.release.wait(5)
        return super().open(compartment)

    def read(
        self, compartments: Collection[CompartmentId] | None = None
    ) -> Mapping[CompartmentId, DoorReading]:
        return super().read(compartments)


def test_two_simultaneous_collections_with_one_code_open_one_door(station: Station) -> None:
    locks = SlowLocks([c.id for c in station.layout.compartments])
    station.locks = locks
    stored = store(station, locks)
    locks.slow = True
    outcomes: list[object] = []

    def first() -> None:
        outcomes.append(pickup.collect(station, code=stored.code.pin, terminal="a"))

    thread = threading.Thread(target=first)
    thread.start()
    assert locks.entered.wait(5)
    with pytest.raises(DoorBusy):
        pickup.collect(station, code=stored.code.pin, terminal="b")
    locks.release.set()
    thread.join(5)
    with pytest.raises(CodeInvalid):
        pickup.collect(station, code=stored.code.pin, terminal="b")
    assert locks.pulses(stored.compartment_id) == 2  # courier's and one customer's
    assert len(outcomes) == 1


def test_expiry_take_back_and_extension(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    late, extended = store(station, locks), store(station, locks)
    with pytest.raises(InvalidTransition):
        staff.take_back(station, actor=COURIER, parcel_id=late.parcel_id)
    clock.advance(days=7, seconds=1)
    report = staff.expire(station)
    assert set(report.expired_parcels) == {late.parcel_id, extended.parcel_id}
    assert comp_state(station, late.compartment_id) is CompartmentState.OCCUPIED
    deadlines.extend_deadline(
        station,
        actor="staff:eva",
        parcel_id=extended.parcel_id,
        until=clock.now + timedelta(days=2),
    )
    assert pickup.collect(station, code=extended.code.pin, terminal="k").all_opened
    result = staff.take_back(station, actor=COURIER, parcel_id=late.parcel_id)
    assert result.opened
    assert state_of(station, late.parcel_id) is ParcelState.RETURNED
    assert comp_state(station, late.compartment_id) is CompartmentState.FREE
    assert actions(station, extended.parcel_id)[-4:] == [
        "parcel.expired",
        "parcel.extended",
        "door.opened",
        "parcel.collected",
    ]


def test_reservation_expires_unless_the_door_was_opened(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    idle = deposit.reserve(station, actor=COURIER, parcel=parcel())
    busy = deposit.reserve(station, actor=COURIER, parcel=parcel())
    deposit.deposit(station, actor=COURIER, parcel_id=busy.parcel_id)
    clock.advance(minutes=16)
    report = staff.expire(station)
    assert report.released_reservations == (idle.parcel_id,)
    assert comp_state(station, idle.compartment_id) is CompartmentState.FREE
    assert state_of(station, busy.parcel_id) is ParcelState.RESERVED


def test_full_station_says_no_free_compartment(station: Station, locks: InMemoryLocks) -> None:
    xl = [c for c in station.layout.compartments if c.size is SizeClass.XL]
    for _ in xl:
        store(station, locks, SizeClass.XL)
    with pytest.raises(NoFreeCompartment):
        deposit.reserve(station, actor=COURIER, parcel=parcel(SizeClass.XL))
    with station.db.read() as session:  # the refused parcel was not half-created
        assert len(session.exec(select(Parcel)).all()) == len(xl)


def test_staff_door_needs_a_reason_and_is_audited(station: Station, locks: InMemoryLocks) -> None:
    with pytest.raises(ReasonRequired, match="reason"):
        staff.open_door(station, actor="staff:eva", compartment_id=3, reason=" ")
    assert staff.open_door(station, actor="staff:eva", compartment_id=3, reason="cleaning").opened
    with station.db.read() as session:
        last = entries(session, compartment_id=3)[-1]
    assert (last.action, last.actor, last.detail) == ("door.opened", "staff:eva", "staff: cleaning")


def test_out_of_service_sends_a_waiting_parcel_elsewhere(
    station: Station, locks: InMemoryLocks
) -> None:
    reservation = deposit.reserve(station, actor=COURIER, parcel=parcel())
    staff.set_out_of_service(
        station, actor="staff:eva", compartment_id=reservation.compartment_id, reason="hinge"
    )
    assert state_of(station, reservation.parcel_id) is ParcelState.ANNOUNCED
    assert comp_state(station, reservation.compartment_id) is CompartmentState.OUT_OF_SERVICE
    again = deposit.reserve(station, actor=COURIER, parcel_id=reservation.parcel_id)
    assert again.compartment_id != reservation.compartment_id
    staff.clear_fault(station, actor="staff:eva", compartment_id=reservation.compartment_id)
    assert comp_state(station, reservation.compartment_id) is CompartmentState.FREE
    with pytest.raises(InvalidTransition, match="already in service"):
        staff.clear_fault(station, actor="staff:eva", compartment_id=reservation.compartment_id)
