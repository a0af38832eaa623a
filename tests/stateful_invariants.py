"""The invariants the station state machine (:mod:`tests.stateful_station`) checks after
every step, against its model: the database agrees with the model, no compartment holds two
recipients' parcels, every stored parcel is in one taken compartment, what is inside is what
the database says, doors pulse only when meant to, one audit row per transition.

A mixin of :class:`~tests.stateful_station.StationMachine`: it reads the machine's station,
model and rig.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis.stateful import invariant
from sqlmodel import col, select

from locker.audit import entries
from locker.station import compartment_state
from locker.store.tables import ACTIVE_PARCEL_STATES, LIVE_PARCEL_STATES, Compartment, Parcel
from locker.types import ColdKind, CompartmentState, Condition, ParcelState

if TYPE_CHECKING:
    from locker.station import Station

P = ParcelState


class StationInvariants:
    """What must hold after every step."""

    station: Station
    parcels: dict[int, Any]
    condition: dict[int, Condition]
    pulses: dict[int, int]
    runs: dict[str, int]
    rig: Any

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        self.runs["checks"] += 1
        with self.station.db.read() as session:
            rows = {p.id: p for p in session.exec(select(Parcel)).all()}
            assert set(rows) == set(self.parcels)
            for pid, model in self.parcels.items():
                row = rows[pid]
                assert row.state is model.state, (pid, row.state, model.state)
                if model.state in ACTIVE_PARCEL_STATES:
                    assert row.compartment_id == model.compartment, pid
            conditions = {c.id: c.condition for c in session.exec(select(Compartment)).all()}
            assert conditions == self.condition

    @invariant()
    def one_tracking_number_is_one_live_parcel(self) -> None:
        """No carrier's tracking number is two live parcels (announced, held, stored or
        expired) at the station."""
        with self.station.db.read() as session:
            live = session.exec(
                select(Parcel.carrier, Parcel.tracking_number).where(
                    col(Parcel.state).in_(LIVE_PARCEL_STATES)
                )
            ).all()
        assert len(live) == len(set(live)), sorted(live)

    @invariant()
    def no_compartment_holds_two_recipients_parcels(self) -> None:
        """Two active parcels share a compartment only as a first one and those beside
        it, all of one recipient: as the model put them there."""
        with self.station.db.read() as session:
            held = session.exec(
                select(Parcel.id, Parcel.compartment_id, Parcel.beside_parcel_id).where(
                    col(Parcel.state).in_(ACTIVE_PARCEL_STATES)
                )
            ).all()
        groups: dict[int, set[int]] = {}
        for pid, cid, first in held:
            assert cid is not None
            assert pid is not None
            assert first == self.parcels[pid].beside, (pid, first)
            groups.setdefault(cid, set()).add(first if first is not None else pid)
            if first is not None:
                assert self.parcels[pid].recipient == self.parcels[first].recipient
                assert self.parcels[pid].recipient is not None
        assert all(len(roots) == 1 for roots in groups.values()), groups

    @invariant()
    def a_cold_parcel_only_in_its_kind_and_no_ordinary_one_in_a_freezer(self) -> None:
        """Chilled goods only in a chilled compartment, frozen only in a frozen one; an
        ordinary parcel never in a frozen compartment (a chilled one is its last resort)."""
        with self.station.db.read() as session:
            held = session.exec(
                select(Parcel.id, Parcel.compartment_id, Parcel.cold).where(
                    col(Parcel.state).in_(ACTIVE_PARCEL_STATES)
                )
            ).all()
        for pid, cid, cold in held:
            assert cid is not None
            kind = self.rig.layout.compartment(cid).cold
            assert cold is self.parcels[pid].cold, pid
            if cold is not None:
                assert kind is cold, (pid, cid, cold, kind)
            else:
                assert kind is not ColdKind.FROZEN, (pid, cid)

    @invariant()
    def every_stored_parcel_is_in_one_taken_compartment(self) -> None:
        with self.station.db.read() as session:
            stored = session.exec(select(Parcel).where(Parcel.state == P.STORED)).all()
            for parcel in stored:
                assert parcel.compartment_id is not None
                state = compartment_state(session, parcel.compartment_id)
                assert state is not CompartmentState.FREE
                assert state is not CompartmentState.RESERVED

    @invariant()
    def what_is_inside_is_what_the_database_says(self) -> None:
        """The physical contents (the hands' record) match the parcels the database keeps
        stored or expired in each compartment: no parcel is left behind unrecorded."""
        with self.station.db.read() as session:
            inside = set(
                session.exec(
                    select(Parcel.compartment_id).where(
                        col(Parcel.state).in_((P.STORED, P.EXPIRED))
                    )
                ).all()
            )
        for spec in self.rig.layout.compartments:
            assert self.rig.hands.holds(spec.id) == (spec.id in inside), spec.id

    @invariant()
    def doors_pulse_only_when_meant_to(self) -> None:
        for cid, expected in self.pulses.items():
            assert self.rig.hands.pulses(cid) == expected, cid

    @invariant()
    def one_audit_row_per_transition(self) -> None:
        with self.station.db.read() as session:
            for pid, model in self.parcels.items():
                logged = [
                    e.action for e in entries(session, parcel_id=pid, action_prefix="parcel.")
                ]
                assert logged == model.actions, (pid, logged, model.actions)
