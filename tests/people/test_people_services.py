"""Issue 17 (second half) on the services: two parcels in one compartment, holds,
retention by the clock, and what the database refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from locker.audit import entries
from locker.errors import DoorBusy
from locker.services import beside, deadlines, deposit, intake, pickup, staff
from locker.services.holds import HoldRefused, hold_by_code, hold_by_link
from locker.services.privacy import erase_old_personal_data
from locker.services.reminders import remind
from locker.station import Station
from locker.store.tables import Parcel
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import ParcelState, SizeClass
from tests.support import FakeClock


def _input(
    tracking: str, email: str | None = "ada@example.org", **more: object
) -> intake.ParcelInput:
    return intake.ParcelInput(
        carrier="DHL",
        tracking_number=tracking,
        recipient_name="Ada Lovelace",
        recipient_email=email,
        size=SizeClass.M,
        **more,  # type: ignore[arg-type]
    )


def _store(station: Station, locks: InMemoryLocks, held: intake.Reservation) -> intake.Stored:
    assert deposit.deposit(station, actor="courier", parcel_id=held.parcel_id).opened
    locks.put(held.compartment_id)
    locks.close(held.compartment_id)
    return deposit.confirm_stored(station, parcel_id=held.parcel_id, actor="courier")


def _two_in_one(station: Station, locks: InMemoryLocks) -> tuple[intake.Stored, intake.Stored]:
    first = _store(station, locks, deposit.reserve(station, actor="courier", parcel=_input("T1")))
    assert beside.offer(station, _input("T2")) == first.compartment_id
    held = beside.reserve_beside(station, actor="courier", parcel=_input("T2"))
    assert held is not None
    assert held.compartment_id == first.compartment_id
    return first, _store(station, locks, held)


def test_two_parcels_one_compartment_one_code_one_door(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    clock.advance(hours=1)
    first, second = _two_in_one(station, locks)
    assert set(second.opens) == {first.parcel_id, second.parcel_id}
    with station.db.read() as session:
        rows = {p.id: p for p in session.exec(select(Parcel)).all()}
        assert rows[second.parcel_id].beside_parcel_id == first.parcel_id
        # the first one waits as long as the second one now
        assert rows[first.parcel_id].deadline == rows[second.parcel_id].deadline
        logged = entries(session, parcel_id=second.parcel_id, action_prefix="parcel.reserved")
        assert f"beside parcel {first.parcel_id}" in logged[0].detail
        assert logged[0].compartment_id == first.compartment_id
    assert second.code is not None
    pulses = locks.pulses(first.compartment_id)
    collected = pickup.collect(station, code=second.code.pin, terminal="k")
    assert [(d.compartment_id, d.parcel_ids) for d in collected.doors] == [
        (first.compartment_id, (first.parcel_id, second.parcel_id))
    ]
    assert locks.pulses(first.compartment_id) == pulses + 1  # once, for both
    with station.db.read() as session:
        for pid in (first.parcel_id, second.parcel_id):
            assert session.get(Parcel, pid).state is ParcelState.COLLECTED  # type: ignore[union-attr]
            assert [e.action for e in entries(session, parcel_id=pid)][-1] == "parcel.collected"


def test_the_older_code_also_finishes_the_whole_compartment(
    station: Station, locks: InMemoryLocks
) -> None:
    first, second = _two_in_one(station, locks)
    assert first.code is not None
    doors = pickup.collect(station, code=first.code.pin, terminal="k").doors
    assert [d.parcel_ids for d in doors] == [(first.parcel_id, second.parcel_id)]


def test_another_recipient_or_carrier_gets_no_offer(station: Station, locks: InMemoryLocks) -> None:
    _store(station, locks, deposit.reserve(station, actor="courier", parcel=_input("T1")))
    assert beside.offer(station, _input("T2", email="bob@example.org")) is None
    other = intake.ParcelInput(
        carrier="UPS",
        tracking_number="U",
        recipient_name="Ada",
        recipient_email="ada@example.org",
        size=SizeClass.S,
    )
    assert beside.offer(station, other) is None
    assert beside.reserve_beside(station, actor="c", parcel=_input("T3", email=None)) is None


def test_the_database_refuses_every_other_second_parcel(
    station: Station, locks: InMemoryLocks
) -> None:
    first, second = _two_in_one(station, locks)
    other = deposit.announce(station, actor="c", parcel=_input("T9", email="bob@example.org"))
    with station.db.engine.connect() as connection:
        for sql in (
            # another recipient's parcel claims to lie beside Ada's
            f"UPDATE parcel SET state='stored', compartment_id={first.compartment_id}, "
            f"beside_parcel_id={first.parcel_id} WHERE id={other}",
            # or simply lies in that compartment
            f"UPDATE parcel SET state='stored', compartment_id={first.compartment_id} "
            f"WHERE id={other}",
            # a parcel beside one in another compartment
            f"UPDATE parcel SET compartment_id={first.compartment_id + 1} "
            f"WHERE id={second.parcel_id}",
        ):
            with pytest.raises(sa.exc.IntegrityError):
                connection.exec_driver_sql(sql)
            connection.rollback()


def test_expiry_and_take_back_handle_both(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    first, second = _two_in_one(station, locks)
    clock.advance(days=8)
    report = staff.expire(station)
    assert set(report.expired_parcels) == {first.parcel_id, second.parcel_id}
    result = staff.take_back(station, actor="courier", parcel_id=first.parcel_id)
    assert result.parcel_ids == (first.parcel_id, second.parcel_id)
    with station.db.read() as session:
        states = {session.get(Parcel, pid).state for pid in result.parcel_ids}  # type: ignore[union-attr]
    assert states == {ParcelState.RETURNED}


def test_staff_extending_one_extends_both(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    first, second = _two_in_one(station, locks)
    clock.advance(days=8)
    staff.expire(station)
    deadlines.extend_deadline(
        station, actor="staff", parcel_id=first.parcel_id, until=clock.now + timedelta(days=2)
    )
    with station.db.read() as session:
        rows = [session.get(Parcel, pid) for pid in (first.parcel_id, second.parcel_id)]
        assert {r.state for r in rows if r} == {ParcelState.STORED}
        assert len({r.deadline for r in rows if r}) == 1


def test_a_hold_moves_the_deadline_and_keeps_reminders_back(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    stored = _store(station, locks, deposit.reserve(station, actor="c", parcel=_input("T1")))
    assert stored.code is not None
    held = hold_by_code(station, code=stored.code.pin, terminal="k", days=5, max_days=7)
    assert held.deadline == stored.deadline + timedelta(days=5)
    with pytest.raises(HoldRefused):
        hold_by_link(station, stored.parcel_id, days=3, max_days=7)  # 5 + 3 > 7
    hold_by_link(station, stored.parcel_id, days=2, max_days=7)
    # day 6: the old deadline's reminder would be due, but the recipient is away
    clock.advance(days=6)
    assert remind(station, remind_before=timedelta(days=2), last_call_before=timedelta(days=1)) == 0
    clock.advance(days=6)  # back, and two days before the new deadline (day 14)
    assert remind(station, remind_before=timedelta(days=2), last_call_before=timedelta(days=1)) == 1
    with station.db.read() as session:
        actions = [e.action for e in entries(session, parcel_id=stored.parcel_id)]
    assert actions.count("parcel.held") == 2


def test_retention_erases_by_the_clock(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    stored = _store(
        station,
        locks,
        deposit.reserve(station, actor="c", parcel=_input("T1", recipient_phone="+49 170 555")),
    )
    assert stored.code is not None
    pickup.collect(station, code=stored.code.pin, terminal="k")
    clock.advance(days=29)
    assert erase_old_personal_data(station, keep_for=timedelta(days=30)).parcels == ()
    clock.advance(days=2)
    assert erase_old_personal_data(station, keep_for=timedelta(days=30)).parcels == (
        stored.parcel_id,
    )
    with station.db.read() as session:
        row = session.get(Parcel, stored.parcel_id)
        assert row is not None
        assert row.recipient_name.startswith("person-")
        assert row.recipient_email is None
        assert row.recipient_phone is None
        assert row.erased_at == clock.now
    data = station.db.path.read_bytes()
    wal = station.db.path.with_name("station.db-wal")
    data += wal.read_bytes() if wal.exists() else b""
    for secret in (b"Ada Lovelace", b"ada@example.org", b"+49 170 555"):
        assert secret not in data


def test_no_door_opens_for_the_recipient_while_a_courier_fills_it(
    station: Station, locks: InMemoryLocks
) -> None:
    first = _store(station, locks, deposit.reserve(station, actor="courier", parcel=_input("T1")))
    announced = deposit.announce(station, actor="courier", parcel=_input("T2"))
    held = beside.reserve_beside(station, actor="courier", parcel_id=announced)
    assert held is not None
    assert held.compartment_id == first.compartment_id
    assert first.code is not None
    pulses = locks.pulses(first.compartment_id)
    with pytest.raises(DoorBusy):
        pickup.collect(station, code=first.code.pin, terminal="k")
    assert locks.pulses(first.compartment_id) == pulses
    second = _store(station, locks, held)  # the courier is done: one code for both
    assert second.code is not None
    doors = pickup.collect(station, code=second.code.pin, terminal="k").doors
    assert [d.parcel_ids for d in doors] == [(first.parcel_id, second.parcel_id)]
