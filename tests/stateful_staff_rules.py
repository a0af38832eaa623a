"""The rules of the station state machine (:mod:`tests.stateful_station`) that are not a
courier's or a customer's: the clock moves and expiry runs, couriers take expired parcels
back, staff extend deadlines, open doors, take compartments out of service and clear
faults, locks jam and are repaired, and the station restarts.

A mixin of :class:`~tests.stateful_station.StationMachine`: it works on the machine's
station, model and rig, and uses its helpers.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from locker.errors import DoorBusy
from locker.locks import DoorOutcome
from locker.services import staff
from locker.types import Condition, ParcelState

P = ParcelState


class StaffAndClockRules:
    """Rules of the clock, of staff and of the hardware."""

    # --- time --------------------------------------------------------------------------
    @rule(hours=st.sampled_from([0.1, 0.5, 24, 24 * 8]))
    def time_passes_and_expiry_runs(self, hours: float) -> None:
        self.clock.advance(hours=hours)
        now = self.clock.now
        staff.expire(self.station)
        for pid in self._in(P.STORED):
            model = self.parcels[pid]
            if model.deadline is not None and model.deadline <= now:
                model.state = P.EXPIRED
                model.actions.append("parcel.expired")
        for pid in self._waiting():
            until = self.parcels[pid].reserved_until
            if until is not None and until <= now:
                self._release(pid)
        lapse = now - self.station.policy.announcement_expiry  # never brought in: lapsed
        for pid in self._in(P.ANNOUNCED):
            created = self.parcels[pid].created
            if created is not None and created <= lapse:
                self.parcels[pid].state = P.LAPSED
                self.parcels[pid].actions.append("parcel.lapsed")

    @precondition(lambda self: self._in(P.EXPIRED))
    @rule(data=st.data())
    def courier_takes_back(self, data: st.DataObject) -> None:
        pid = data.draw(st.sampled_from(self._in(P.EXPIRED)))
        model = self.parcels[pid]
        assert model.compartment is not None
        if self._inside(model.compartment, P.RESERVED):
            with contextlib.suppress(DoorBusy):
                self.ops.take_back(pid)
                raise AssertionError("a door opened while a courier filled it")
            return
        expected = self._pulse(model.compartment)
        result = self.ops.take_back(pid)
        assert result.outcome is expected
        if expected is DoorOutcome.OPENED:
            gone = self._inside(model.compartment, P.EXPIRED)  # all of them go back
            assert sorted(result.parcel_ids) == gone
            for other in gone:
                self.parcels[other].state = P.RETURNED
                self.parcels[other].actions.append("parcel.returned")
            self.rig.hands.take(model.compartment)
            self.rig.hands.close(model.compartment)
            self.cashier.sweep()  # the money of a parcel that went back goes back
            self._money_of_returned(gone)

    @precondition(lambda self: self._in(P.EXPIRED))
    @rule(data=st.data())
    def staff_extend_deadline(self, data: st.DataObject) -> None:
        pid = data.draw(st.sampled_from(self._in(P.EXPIRED)))
        until = self.clock.now + timedelta(days=3)
        self.ops.extend(pid, until)
        model = self.parcels[pid]
        model.state, model.deadline = P.STORED, until
        model.actions.append("parcel.extended")
        assert model.compartment is not None
        self._align(model.compartment, until, but=pid)

    # --- staff and hardware ------------------------------------------------------------
    def _compartments(self) -> st.SearchStrategy[int]:
        return st.sampled_from([c.id for c in self.rig.layout.compartments])

    @rule(data=st.data())
    def staff_opens_and_closes_a_door(self, data: st.DataObject) -> None:
        cid = data.draw(self._compartments())
        if any(self.parcels[p].compartment == cid for p in self._open_for_deposit()):
            return  # a courier is at that door
        expected = self._pulse(cid)
        result = self.ops.open_door(cid)
        assert result.outcome is expected
        self.rig.hands.close(cid)

    @rule(data=st.data())
    def staff_takes_out_of_service(self, data: st.DataObject) -> None:
        cid = data.draw(self._compartments())
        self.ops.out_of_service(cid)
        self.condition[cid] = Condition.OUT_OF_SERVICE
        for pid in self._waiting():
            if self.parcels[pid].compartment == cid:
                self._release(pid)

    @precondition(lambda self: any(c is not Condition.OK for c in self.condition.values()))
    @rule(data=st.data())
    def staff_clears_fault(self, data: st.DataObject) -> None:
        broken = sorted(c for c, cond in self.condition.items() if cond is not Condition.OK)
        cid = data.draw(st.sampled_from(broken))
        self.ops.clear_fault(cid)
        self.condition[cid] = Condition.OK

    @rule(data=st.data(), jammed=st.booleans())
    def a_lock_jams_or_is_repaired(self, data: st.DataObject, jammed: bool) -> None:
        cid = data.draw(self._compartments())
        self.rig.hands.jam(cid, jammed)
        (self.jammed.add if jammed else self.jammed.discard)(cid)

    @rule()
    def restart(self) -> None:
        self.ops.close()
        self.station.db.close()
        self.station = self._open()
        self._new_cashier()
        self.ops = self.make_ops(self.station, self.tokens, self.cashier)
