"""What may happen while a door is opening: the clock's jobs, staff and couriers act in
between the intent and the outcome. Nothing may lose a parcel or give its compartment away.
(Found by an independent review; each test failed before the fix.)"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import timedelta

import pytest

from locker.errors import DoorBusy, InvalidTransition
from locker.locks import DoorOutcome, DoorReading
from locker.services import deadlines, deposit, pickup, reconcile, staff
from locker.services.doors import begin
from locker.services.intake import ParcelInput, Stored
from locker.station import Station, compartment_state, get_parcel
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import CompartmentId, CompartmentState, DoorPurpose, ParcelState, SizeClass
from tests.support import FakeClock

COURIER = "courier:test"


class DuringPulse:
    """Locks that run ``meanwhile`` while the lock is being pulsed."""

    def __init__(self, inner: InMemoryLocks) -> None:
        self.inner = inner
        self.meanwhile: Callable[[], None] | None = None

    def open(self, compartment: CompartmentId) -> DoorOutcome:
        if self.meanwhile is not None:
            action, self.meanwhile = self.meanwhile, None
            action()
        return self.inner.open(compartment)

    def read(
        self, compartments: Collection[CompartmentId] | None = None
    ) -> Mapping[CompartmentId, DoorReading]:
        return self.inner.read(compartments)


@pytest.fixture
def racy(station: Station, locks: InMemoryLocks) -> DuringPulse:
    wrapper = DuringPulse(locks)
    station.locks = wrapper
    return wrapper


def parcel(email: str | None = None, carrier: str = "DHL") -> ParcelInput:
    return ParcelInput(
        carrier=carrier,
        tracking_number="T",
        recipient_name="Ada",
        recipient_email=email,
        size=SizeClass.S,
    )


def stored(station: Station, locks: InMemoryLocks, data: ParcelInput | None = None) -> Stored:
    held = deposit.reserve(station, actor=COURIER, parcel=data or parcel())
    assert deposit.deposit(station, actor=COURIER, parcel_id=held.parcel_id).opened
    locks.put(held.compartment_id)
    locks.close(held.compartment_id)
    return deposit.confirm_stored(station, parcel_id=held.parcel_id)


def state(station: Station, pid: int) -> ParcelState:
    with station.db.read() as session:
        return get_parcel(session, pid).state


def test_the_reservation_does_not_expire_under_a_courier_opening_it(
    station: Station, locks: InMemoryLocks, racy: DuringPulse, clock: FakeClock
) -> None:
    held = deposit.reserve(station, actor=COURIER, parcel=parcel())
    clock.advance(minutes=15)  # exactly at the end of the hold time
    racy.meanwhile = lambda: staff.expire(station)
    assert deposit.deposit(station, actor=COURIER, parcel_id=held.parcel_id).opened
    locks.put(held.compartment_id)
    locks.close(held.compartment_id)
    assert deposit.confirm_stored(station, parcel_id=held.parcel_id).compartment_id == (
        held.compartment_id
    )


def test_a_parcel_does_not_expire_under_its_collection(
    station: Station, locks: InMemoryLocks, racy: DuringPulse, clock: FakeClock
) -> None:
    item = stored(station, locks)
    clock.advance(days=7, seconds=-1)

    def deadline_passes() -> None:
        clock.advance(seconds=2)  # the deadline passes while the door opens
        staff.expire(station)

    racy.meanwhile = deadline_passes
    assert pickup.collect(station, code=item.code.pin, terminal="kiosk").all_opened
    assert state(station, item.parcel_id) is ParcelState.COLLECTED


def test_staff_cannot_extend_a_parcel_whose_door_is_opening(
    station: Station, locks: InMemoryLocks
) -> None:
    item = stored(station, locks)
    with station.db.write() as session:
        begin(
            session,
            compartment_id=item.compartment_id,
            purpose=DoorPurpose.TAKE_BACK,
            actor=COURIER,
            now=station.now(),
        )
    with pytest.raises(DoorBusy):
        deadlines.extend_deadline(
            station, actor="staff", parcel_id=item.parcel_id, until=station.now() + timedelta(1)
        )


def test_out_of_service_does_not_release_a_deposit_being_opened(
    station: Station, locks: InMemoryLocks, racy: DuringPulse
) -> None:
    held = deposit.reserve(station, actor=COURIER, parcel=parcel())
    racy.meanwhile = lambda: staff.set_out_of_service(
        station, actor="staff", compartment_id=held.compartment_id, reason="hinge"
    )
    assert deposit.deposit(station, actor=COURIER, parcel_id=held.parcel_id).opened
    assert state(station, held.parcel_id) is ParcelState.RESERVED  # still held for it


def test_a_deposit_that_could_not_be_read_back_keeps_its_compartment(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    held = deposit.reserve(station, actor=COURIER, parcel=parcel())
    locks.mute(held.compartment_id)  # the board is silent: did the door open?
    result = deposit.deposit(station, actor=COURIER, parcel_id=held.parcel_id)
    assert result.outcome is DoorOutcome.NO_ANSWER
    clock.advance(hours=1)
    staff.expire(station)  # the hold time is long gone, but the parcel may be inside
    assert state(station, held.parcel_id) is ParcelState.RESERVED
    with station.db.read() as session:
        assert compartment_state(session, held.compartment_id) is CompartmentState.FAULT
    locks.mute(held.compartment_id, False)
    locks.put(held.compartment_id)  # it had opened; the courier filled it and shut it
    locks.close(held.compartment_id)
    assert [s.parcel_id for s in deposit.store_closed_deposits(station)] == [held.parcel_id]


def test_a_door_reported_stuck_with_something_inside_is_not_released(
    station: Station, locks: InMemoryLocks
) -> None:
    held = deposit.reserve(station, actor=COURIER, parcel=parcel())
    assert deposit.deposit(station, actor=COURIER, parcel_id=held.parcel_id).opened
    locks.put(held.compartment_id)
    with pytest.raises(InvalidTransition):
        deposit.report_stuck_door(station, actor=COURIER, parcel_id=held.parcel_id)
    assert state(station, held.parcel_id) is ParcelState.RESERVED


def test_codes_of_different_carriers_are_never_merged(
    station: Station, locks: InMemoryLocks
) -> None:
    theirs = stored(station, locks, parcel("victim@example.org", carrier="UPS"))
    mine = stored(station, locks, parcel("Victim@Example.org", carrier="DHL"))
    assert mine.opens == (mine.parcel_id,)
    opened = pickup.collect(station, code=mine.code.pin, terminal="kiosk")
    assert [d.compartment_id for d in opened.doors] == [mine.compartment_id]
    assert state(station, theirs.parcel_id) is ParcelState.STORED


def test_an_intent_left_without_outcome_is_settled_while_running(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    item = stored(station, locks)
    with station.db.write() as session:  # an opening whose outcome commit failed
        begin(
            session,
            compartment_id=item.compartment_id,
            purpose=DoorPurpose.COLLECT,
            actor="customer@kiosk",
            now=station.now(),
            parcel_ids=(item.parcel_id,),
        )
    assert reconcile.reconcile(station, older_than=timedelta(minutes=1)) == []  # too young
    clock.advance(minutes=2)
    settled = reconcile.reconcile(station, older_than=timedelta(minutes=1))
    assert [(s.compartment_id, s.verdict) for s in settled] == [
        (item.compartment_id, reconcile.NOT_OPENED)  # latched, parcel still inside
    ]
    assert pickup.collect(station, code=item.code.pin, terminal="kiosk").all_opened
