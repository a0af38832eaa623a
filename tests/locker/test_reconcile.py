"""Start-up reconciliation: a door operation a crash left open is settled from what the boards
report (collected, kept, stored, or flagged for staff: never guessed); a door under way is
busy; the layout cannot drop a compartment that holds a parcel."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from locker.errors import (
    DoorBusy,
    StationMisconfigured,
)
from locker.layout import demo_layout
from locker.services import deposit, doors, pickup, reconcile
from locker.station import Station, compartment_state, get_parcel, sync_layout
from locker.store.tables import DoorOp
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import CompartmentId, CompartmentState, DoorPurpose, ParcelState
from tests.locker.service_helpers import COURIER, comp_state, parcel, state_of, store


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
