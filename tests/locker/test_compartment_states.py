"""Every compartment's state in one read (the console's front at start-up) is each one's
state as read alone."""

from __future__ import annotations

from locker.services import deposit, staff
from locker.station import Station, compartment_state, compartment_states
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import CompartmentState
from tests.locker.service_helpers import COURIER, parcel, store


def test_all_states_at_once_are_each_state_alone(station: Station, locks: InMemoryLocks) -> None:
    stored = store(station, locks)
    reserved = deposit.reserve(station, actor=COURIER, parcel=parcel())
    ids = sorted(c.id for c in station.layout.compartments)
    broken = next(c for c in ids if c not in (stored.compartment_id, reserved.compartment_id))
    staff.set_out_of_service(station, actor="staff:x", compartment_id=broken, reason="hinge")
    with station.db.read() as session:
        states = compartment_states(session)
        assert states == {cid: compartment_state(session, cid) for cid in ids}
    assert states[stored.compartment_id] is CompartmentState.OCCUPIED
    assert states[reserved.compartment_id] is CompartmentState.RESERVED
    assert states[broken] is CompartmentState.OUT_OF_SERVICE
    assert CompartmentState.FREE in states.values()
