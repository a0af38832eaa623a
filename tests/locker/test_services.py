"""The services on a real SQLite file with in-memory doors."""

from __future__ import annotations

import contextlib
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
    StationMisconfigured,
    TooManyAttempts,
)
from locker.layout import demo_layout
from locker.locks import DoorOutcome, DoorReading
from locker.services import deadlines, deposit, doors, pickup, reconcile, staff
from locker.services.intake import ParcelInput, Stored
from locker.station import Station, compartment_state, get_parcel, sync_layout
from locker.store.tables import DoorOp, Parcel
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import CompartmentId, CompartmentState, DoorPurpose, ParcelState, SizeClass
from tests.support import FakeClock

COURIER = "courier:dhl-7"


def parcel(size: SizeClass = SizeClass.M, **extra: object) -> ParcelInput:
    return ParcelInput(
        carrier="DHL",
        tracking_number="JJD0001",
        recipient_name="Anna Berg",
        size=size,
        **extra,  # type: ignore[arg-type]
    )


def store(station: Station, locks: InMemoryLocks, size: SizeClass = SizeClass.M) -> Stored:
    reservation = deposit.reserve(station, actor=COURIER, parcel=parcel(size))
    assert deposit.deposit(station, actor=COURIER, parcel_id=reservation.parcel_id).opened
    locks.put(reservation.compartment_id)
    locks.close(reservation.compartment_id)
    return deposit.confirm_stored(station, parcel_id=reservation.parcel_id)


def state_of(station: Station, parcel_id: int) -> ParcelState:
    with station.db.read() as session:
        row = session.get(Parcel, parcel_id)
        assert row is not None
        return row.state


def comp_state(station: Station, cid: int) -> CompartmentState:
    with station.db.read() as session:
        return compartment_state(session, cid)


def actions(station: Station, parcel_id: int) -> list[str]:
    with station.db.read() as session:
        return [e.action for e in entries(session, parcel_id=parcel_id)]


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


def test_a_courier_is_not_sent_to_a_door_that_stands_open_or_holds_something(
    station: Station, locks: InMemoryLocks
) -> None:
    first = store(station, locks)
    assert pickup.collect(station, code=first.code.pin, terminal="kiosk").all_opened
    # The customer is still at the open door: the compartment is free but not given out.
    assert comp_state(station, first.compartment_id) is CompartmentState.FREE
    held = deposit.reserve(station, actor=COURIER, parcel=parcel())
    assert held.compartment_id != first.compartment_id
    # The door is closed with the parcel left inside: still passed over.
    locks.close(first.compartment_id)
    again = deposit.reserve(station, actor=COURIER, parcel=parcel())
    assert again.compartment_id not in (first.compartment_id, held.compartment_id)
    # Emptied and closed, it is the best fit again.
    assert deposit.deposit(station, actor=COURIER, parcel_id=again.parcel_id).opened
    locks.take(first.compartment_id)
    assert deposit.reserve(station, actor=COURIER, parcel=parcel()).compartment_id == (
        first.compartment_id
    )


def test_a_candidate_held_by_another_courier_meanwhile_is_chosen_again_and_read(
    station: Station, locks: InMemoryLocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_read = locks.read
    read: list[int] = []
    rival: list[int] = []

    def read_while_a_rival_holds(
        compartments: Collection[CompartmentId] | None = None,
    ) -> Mapping[CompartmentId, DoorReading]:
        if not rival:  # the rival courier holds the candidate while it is being read
            rival.append(-1)
            rival[0] = deposit.reserve(
                station, actor="courier:ups-1", parcel=parcel()
            ).compartment_id
        read.extend(compartments or ())
        return real_read(compartments)

    monkeypatch.setattr(locks, "read", read_while_a_rival_holds)
    mine = deposit.reserve(station, actor=COURIER, parcel=parcel())
    assert mine.compartment_id != rival[0]
    assert mine.compartment_id in read  # the one held was read before
    with station.db.read() as session:  # the rolled-back try left no parcel behind
        assert len(session.exec(select(Parcel)).all()) == 2


def test_a_courier_always_overtaken_is_asked_to_try_again_not_sent_to_an_unread_door(
    station: Station, locks: InMemoryLocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_read = locks.read
    rivals: list[int] = []
    inside = threading.local()

    def read_while_a_rival_holds(
        compartments: Collection[CompartmentId] | None = None,
    ) -> Mapping[CompartmentId, DoorReading]:
        if not getattr(inside, "rival", False):  # every read of mine, a rival is quicker
            inside.rival = True
            try:
                held = deposit.reserve(station, actor="courier:ups-1", parcel=parcel())
                rivals.append(held.compartment_id)
            finally:
                inside.rival = False
        return real_read(compartments)

    monkeypatch.setattr(locks, "read", read_while_a_rival_holds)
    monkeypatch.setattr(deposit, "READ_AHEAD", 1)  # one candidate read at a time
    with pytest.raises(DoorBusy, match="try again"):
        deposit.reserve(station, actor=COURIER, parcel=parcel())
    assert len(rivals) == deposit.RESERVE_TRIES
    with station.db.read() as session:  # mine was never created
        assert len(session.exec(select(Parcel)).all()) == deposit.RESERVE_TRIES


def test_couriers_reserving_at_the_same_moment_each_get_a_read_compartment(
    station: Station, locks: InMemoryLocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    couriers = 6
    real_read = locks.read
    all_read: set[int] = set()
    together = threading.Barrier(couriers)

    def read_all_at_once(
        compartments: Collection[CompartmentId] | None = None,
    ) -> Mapping[CompartmentId, DoorReading]:
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait(timeout=5)  # every courier has chosen before any holds
        all_read.update(compartments or ())
        return real_read(compartments)

    monkeypatch.setattr(locks, "read", read_all_at_once)
    held: list[int] = []
    failed: list[BaseException] = []

    def courier() -> None:
        try:
            held.append(deposit.reserve(station, actor=COURIER, parcel=parcel()).compartment_id)
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=courier) for _ in range(couriers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failed
    assert len(set(held)) == couriers
    assert set(held) <= all_read


def test_every_fitting_door_standing_open_is_said_so(
    station: Station, locks: InMemoryLocks
) -> None:
    xl = [c.id for c in station.layout.compartments if c.size is SizeClass.XL]
    for cid in xl:
        locks.open(CompartmentId(cid))
    with pytest.raises(NoFreeCompartment, match="stand open"):
        deposit.reserve(station, actor=COURIER, parcel=parcel(SizeClass.XL))
    with station.db.read() as session:  # the refused parcel was not half-created
        assert session.exec(select(Parcel)).all() == []
    locks.close(xl[-1])
    assert (
        deposit.reserve(station, actor=COURIER, parcel=parcel(SizeClass.XL)).compartment_id
        == (xl[-1])
    )


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


def leave_pending(station: Station, purpose: DoorPurpose, cid: int, pid: int) -> None:
    """What a crash between the intent commit and the outcome commit leaves behind."""
    with station.db.write() as session:
        doors.begin(
            session,
            compartment_id=cid,
            purpose=purpose,
            actor="customer@kiosk",
            now=station.now(),
            parcel_ids=(pid,),
        )


def test_reconcile_collect_whose_door_is_open_completes_it(
    station: Station, locks: InMemoryLocks
) -> None:
    stored = store(station, locks)
    leave_pending(station, DoorPurpose.COLLECT, stored.compartment_id, stored.parcel_id)
    locks.open(CompartmentId(stored.compartment_id))  # the pulse went out before the crash
    settled = reconcile.reconcile(station)
    assert [s.verdict for s in settled] == ["opened"]
    assert state_of(station, stored.parcel_id) is ParcelState.COLLECTED
    assert reconcile.pending(station) == []


def test_reconcile_collect_that_never_pulsed_keeps_the_parcel(
    station: Station, locks: InMemoryLocks
) -> None:
    stored = store(station, locks)
    leave_pending(station, DoorPurpose.COLLECT, stored.compartment_id, stored.parcel_id)
    assert [s.verdict for s in reconcile.reconcile(station)] == ["not_opened"]
    assert state_of(station, stored.parcel_id) is ParcelState.STORED
    assert pickup.collect(station, code=stored.code.pin, terminal="k").all_opened


def test_reconcile_opened_and_closed_again_is_told_by_the_ir_strip(
    station: Station, locks: InMemoryLocks
) -> None:
    stored = store(station, locks)
    leave_pending(station, DoorPurpose.COLLECT, stored.compartment_id, stored.parcel_id)
    locks.take(stored.compartment_id)  # opened, emptied and shut while the station was down
    assert [s.verdict for s in reconcile.reconcile(station)] == ["opened"]
    assert state_of(station, stored.parcel_id) is ParcelState.COLLECTED


def test_reconcile_without_a_reading_flags_staff_and_guesses_nothing(
    station: Station, locks: InMemoryLocks
) -> None:
    stored = store(station, locks)
    leave_pending(station, DoorPurpose.COLLECT, stored.compartment_id, stored.parcel_id)
    locks.mute(stored.compartment_id)
    assert [s.verdict for s in reconcile.reconcile(station)] == ["unknown"]
    assert state_of(station, stored.parcel_id) is ParcelState.STORED
    assert comp_state(station, stored.compartment_id) is CompartmentState.FAULT
    with station.db.read() as session:
        op = session.exec(select(DoorOp).order_by(DoorOp.id.desc())).first()  # type: ignore[union-attr]
        assert op is not None
        assert op.outcome == "unknown (reconciled)"


def test_reconcile_deposit_with_parcel_inside_lets_it_be_stored(
    station: Station, locks: InMemoryLocks
) -> None:
    reservation = deposit.reserve(station, actor=COURIER, parcel=parcel())
    leave_pending(station, DoorPurpose.DEPOSIT, reservation.compartment_id, reservation.parcel_id)
    locks.put(reservation.compartment_id)
    assert [s.verdict for s in reconcile.reconcile(station)] == ["opened"]
    stored = deposit.confirm_stored(station, parcel_id=reservation.parcel_id)
    assert stored.compartment_id == reservation.compartment_id


def test_reconcile_of_an_unread_deposit_keeps_it_unconfirmed_until_seen(
    station: Station, locks: InMemoryLocks
) -> None:
    reservation = deposit.reserve(station, actor=COURIER, parcel=parcel())
    cid = reservation.compartment_id
    leave_pending(station, DoorPurpose.DEPOSIT, cid, reservation.parcel_id)
    locks.mute(cid)
    assert [s.verdict for s in reconcile.reconcile(station)] == ["unknown"]
    locks.mute(cid, False)
    with station.db.read() as session:
        held = get_parcel(session, reservation.parcel_id)
    assert (held.state, held.compartment_id, held.door_unconfirmed) == (
        ParcelState.RESERVED,
        cid,
        True,
    )
    assert deposit.store_closed_deposits(station) == []  # shut and empty: nothing stored
    assert state_of(station, reservation.parcel_id) is ParcelState.RESERVED


def test_a_door_under_way_is_busy(station: Station, locks: InMemoryLocks) -> None:
    stored = store(station, locks)
    leave_pending(station, DoorPurpose.COLLECT, stored.compartment_id, stored.parcel_id)
    with pytest.raises(DoorBusy):
        pickup.collect(station, code=stored.code.pin, terminal="k")


def test_layout_cannot_drop_a_compartment_that_holds_a_parcel(
    station: Station, locks: InMemoryLocks
) -> None:
    stored = store(station, locks)
    full = demo_layout()
    smaller = replace(
        full, compartments=tuple(c for c in full.compartments if c.id != stored.compartment_id)
    )
    station.layout = smaller
    with pytest.raises(StationMisconfigured, match=f"compartment {stored.compartment_id} holds"):
        sync_layout(station)
    empty = next(c.id for c in full.compartments if c.id != stored.compartment_id)
    station.layout = replace(
        full, compartments=tuple(c for c in full.compartments if c.id != empty)
    )
    sync_layout(station)
    with station.db.read() as session, pytest.raises(Exception, match="does not exist"):
        compartment_state(session, empty)
