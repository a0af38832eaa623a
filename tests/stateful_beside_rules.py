"""The rules of the station state machine (:mod:`tests.stateful_station`) for several
parcels in one compartment: a courier says the new parcel fits beside the recipient's
waiting one.

A mixin of :class:`~tests.stateful_station.StationMachine`: it works on the machine's
station, model and rig, and uses its helpers.
"""

from __future__ import annotations

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import rule

from locker.services import intake
from locker.types import Condition, ParcelState, SizeClass
from tests.stateful_model import ModelParcel

P = ParcelState


class BesideRules:
    """Parcels put beside a waiting one."""

    def _shareable(self, recipient: str) -> int | None:
        """The first parcel whose compartment a new one of ``recipient`` may join."""
        for pid in self._in(P.STORED):
            model = self.parcels[pid]
            assert model.compartment is not None
            if (
                model.recipient == recipient
                and model.cold is None  # the new one is ambient: never beside a cold one
                and model.beside is None
                and model.deadline is not None
                and model.deadline > self.clock.now
                and self.condition[model.compartment] is Condition.OK
                and not self._inside(model.compartment, P.RESERVED)
            ):
                return pid
        return None

    @rule(
        size=st.sampled_from(list(SizeClass)),
        recipient=st.sampled_from(["ada@example.org", "bob@example.org"]),
        first_too=st.booleans(),
    )
    def a_courier_puts_a_parcel_beside_the_waiting_one(
        self, size: SizeClass, recipient: str, first_too: bool
    ) -> None:
        """The courier says the new parcel fits beside the recipient's waiting one: that
        compartment opens again (or, with none waiting, a compartment of its own). With
        ``first_too`` a first parcel for the recipient is delivered just before, so that
        shared compartments are reached often."""
        if first_too:
            self.a_courier_delivers_one_parcel_all_the_way(SizeClass.L, recipient)
        data = intake.ParcelInput(
            carrier="DHL",
            tracking_number=self._tracking("B"),
            recipient_name="R",
            recipient_email=recipient,
            size=size,
        )
        first = self._shareable(recipient)
        if first is None:
            known = set(self.parcels)
            self._reserve(data.needs(), lambda: self.ops.reserve_new(data, fits_beside=True))
            new = [pid for pid in self.parcels if pid not in known]
        else:
            cid = self.parcels[first].compartment
            reservation = self.ops.reserve_new(data, fits_beside=True)
            assert reservation.compartment_id == cid, (reservation, first)
            new = [reservation.parcel_id]
            self.parcels[reservation.parcel_id] = ModelParcel(
                P.RESERVED, cid, reservation.reserved_until, beside=first
            )
            note(f"parcel {reservation.parcel_id} reserved beside {first} in {cid}")
            self.runs["beside"] = self.runs.get("beside", 0) + 1
        for pid in new:
            self.parcels[pid].recipient = recipient
            self._deposit(pid)
            if self.parcels[pid].door_opened:
                self._put_in_and_close(pid)
