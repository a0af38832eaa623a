"""Returns: a return code opens one compartment once, even tapped twice at once; when no
door opens the code is given back; a return never expires, never gets a pickup code, and
only a return goes from stored to returned."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from locker.errors import CodeInvalid, InvalidTransition
from locker.lifecycle import move
from locker.services import returns, staff
from locker.services.deposit import confirm_stored
from locker.station import Station, compartment_row, get_parcel
from locker.store.tables import Parcel, ReturnCode
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import Condition, ParcelKind, ParcelState, SizeClass
from tests.support import FakeClock


def a_code(station: Station) -> str:
    return returns.issue_return_code(
        station,
        carrier="Parcel Co",
        reference="RMA-1",
        size=SizeClass.M,
        actor="courier:test",
        valid_for=timedelta(days=14),
    ).pin


def test_a_return_code_opens_one_compartment_even_tapped_twice_at_once(
    station: Station, locks: InMemoryLocks
) -> None:
    code = a_code(station)
    outcomes: list[object] = []

    def tap(terminal: str) -> None:
        try:
            outcomes.append(returns.drop_off(station, code=code, terminal=terminal))
        except CodeInvalid as exc:
            outcomes.append(exc)

    taps = [threading.Thread(target=tap, args=(f"kiosk-{n}",)) for n in range(2)]
    for t in taps:
        t.start()
    for t in taps:
        t.join()
    opened = [o for o in outcomes if isinstance(o, returns.DropOff)]
    assert len(opened) == 1
    assert sum(isinstance(o, CodeInvalid) for o in outcomes) == 1
    assert sum(locks.pulses(c.id) for c in station.layout.compartments) == 1


def test_when_no_door_opens_the_code_is_given_back(station: Station, locks: InMemoryLocks) -> None:
    code = a_code(station)
    for spec in station.layout.compartments:
        locks.jam(spec.id)  # every latch stuck
    dropped = returns.drop_off(station, code=code, terminal="kiosk")
    assert dropped.opened is None
    assert len(dropped.doors) == returns.DOORS_TO_TRY  # three compartments tried
    with station.db.read() as session:
        parcel = get_parcel(session, dropped.parcel_id)
        assert parcel.state is ParcelState.ANNOUNCED  # no compartment held
        faulty = [
            c.id
            for c in station.layout.compartments
            if compartment_row(session, c.id).condition is Condition.FAULT
        ]
    assert len(faulty) == returns.DOORS_TO_TRY
    for spec in station.layout.compartments:
        locks.jam(spec.id, jammed=False)
    again = returns.drop_off(station, code=code, terminal="kiosk")  # the code works again
    assert again.opened is not None
    assert again.parcel_id == dropped.parcel_id  # the same return, not a second one
    with pytest.raises(CodeInvalid):  # and now it is spent
        returns.drop_off(station, code=code, terminal="kiosk")


def test_a_return_never_expires_nor_gets_a_code(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    dropped = returns.drop_off(station, code=a_code(station), terminal="kiosk")
    assert dropped.opened is not None
    cid = dropped.opened.compartment_id
    locks.put(cid)
    locks.close(cid)
    stored = confirm_stored(station, parcel_id=dropped.parcel_id)
    assert stored.code is None
    clock.advance(days=60)
    assert staff.expire(station).expired_parcels == ()
    with pytest.raises(InvalidTransition):
        staff.reissue_code(station, actor="staff:test", parcel_id=dropped.parcel_id)
    with station.db.read() as session:
        parcel = get_parcel(session, dropped.parcel_id)
        assert (parcel.kind, parcel.state) == (ParcelKind.RETURN, ParcelState.STORED)
        used = session.get(ReturnCode, 1)
        assert used is not None
        assert used.parcel_id == dropped.parcel_id
    assert staff.take_back(station, actor="courier:test", parcel_id=dropped.parcel_id).opened
    with station.db.read() as session:
        assert get_parcel(session, dropped.parcel_id).state is ParcelState.RETURNED


def test_only_a_return_goes_from_stored_to_returned(station: Station) -> None:
    with station.db.write() as session:
        delivery = Parcel(
            state=ParcelState.STORED,
            carrier="C",
            tracking_number="T",
            recipient_name="R",
            created_at=station.now(),
        )
        session.add(delivery)
        session.flush()
        with pytest.raises(InvalidTransition):
            move(session, delivery, ParcelState.RETURNED, actor="test", now=station.now())
