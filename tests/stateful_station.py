"""A hypothesis state machine over the whole station, for any ``Locks`` underneath.

It drives the services the way couriers, customers, staff and the clock would, keeps a
model of what should be true, and after every step checks the station against it:

* no compartment holds two recipients' parcels (a second parcel lies beside the first
  one of the same recipient only when the courier said it fits, and both leave with
  one door opening);
* every stored parcel is in exactly one compartment that is not free;
* a door is pulsed only when a service meant to open it (a wrong, used or expired code
  never opens one);
* the audit log has exactly one ``parcel.*`` row per transition, in order;
* nothing stored disappears across a restart (the database is closed and reopened);
* pay at pick-up (:mod:`tests.stateful_payment_rules`): the door of an unpaid parcel never
  opens, and the money taken is the money of parcels paid or collected, or given back.

A :class:`Rig` supplies the doors: their ``Locks`` and the "hands" that close doors,
put parcels in and take them out, jam a lock, and count pulses.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from locker.assignment import ParcelNeeds, choose
from locker.codes import CodeHasher, normalize_pin
from locker.errors import (
    CodeInvalid,
    DoorBusy,
    NoFreeCompartment,
    TooManyAttempts,
    TrackingNumberLive,
)
from locker.locks import DoorOutcome
from locker.payments.cashier import Cashier
from locker.people.attempts import AttemptPolicy
from locker.services import deposit, intake
from locker.station import Policy, Station, sync_layout
from locker.store.db import Database
from locker.store.tables import ACTIVE_PARCEL_STATES, Parcel
from locker.types import ColdKind, Condition, ParcelState, SizeClass
from tests.cold_support import cold_groups_in_band
from tests.stateful_beside_rules import BesideRules
from tests.stateful_invariants import StationInvariants
from tests.stateful_model import ModelCode, ModelParcel, Rig
from tests.stateful_payment_rules import AMOUNTS, PaymentRules
from tests.stateful_staff_rules import StaffAndClockRules
from tests.station_ops import Ops, ServiceOps
from tests.support import FakeClock, migrated_template

P = ParcelState
GUESSER = 10_000  # the terminal number of the one who guesses codes


# The machine's staff open doors as often as it likes: the limit on staff openings (and the
# second staff member it asks for) is tested in tests/api/test_http_staff_doors.py.
POLICY = Policy(
    attempts=AttemptPolicy(station_failures_per_hour=10_000), staff_open_limit=1_000_000
)
SIZES = st.sampled_from(list(SizeClass))
RECIPIENTS = st.sampled_from(["ada@example.org", None, "bob@example.org"])
COLD = st.sampled_from([None, None, ColdKind.CHILLED, ColdKind.FROZEN])  # mostly ambient


class StationMachine(
    BesideRules, PaymentRules, StaffAndClockRules, StationInvariants, RuleBasedStateMachine
):
    make_rig: ClassVar[Callable[[], Rig]]
    make_ops: ClassVar[Callable[[Station, dict[str, str], Cashier], Ops]] = staticmethod(
        lambda station, _tokens, cashier: ServiceOps(station, cashier)
    )
    runs: ClassVar[dict[str, int]] = {"examples": 0, "checks": 0}

    def __init__(self) -> None:
        super().__init__()
        self.runs["examples"] += 1
        self.rig = self.make_rig()
        self.dir = Path(tempfile.mkdtemp(prefix="locker-machine-"))
        shutil.copyfile(migrated_template(), self.dir / "station.db")
        self.clock = FakeClock()
        self.tokens: dict[str, str] = {}
        self.station = self._open()
        self._start_payments()
        self.ops = self.make_ops(self.station, self.tokens, self.cashier)
        self.parcels: dict[int, ModelParcel] = {}
        self.codes: list[ModelCode] = []
        self.condition = {c.id: Condition.OK for c in self.rig.layout.compartments}
        self.jammed: set[int] = set()
        self.pulses = {c.id: 0 for c in self.rig.layout.compartments}
        self.terminals = itertools.count()
        self.numbers = itertools.count(1)  # tracking numbers: one is one live parcel

    def _open(self) -> Station:
        station = Station(
            layout=self.rig.layout,
            db=Database(self.dir / "station.db"),
            locks=self.rig.locks,
            hasher=CodeHasher(b"machine-key-0123456789abcdef"),
            policy=POLICY,
            clock=self.clock,
        )
        sync_layout(station)
        cold_groups_in_band(station)  # the demo's fridge takes parcels, as the model expects
        return station

    def teardown(self) -> None:
        self.ops.close()
        self._stop_payments()
        self.station.db.close()
        self.rig.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers -----------------------------------------------------------------------
    def _tracking(self, prefix: str) -> str:
        return f"{prefix}{next(self.numbers)}"

    def _in(self, *states: ParcelState) -> list[int]:
        return sorted(pid for pid, p in self.parcels.items() if p.state in states)

    def _held(self) -> set[int]:
        return {
            p.compartment
            for p in self.parcels.values()
            if p.state in ACTIVE_PARCEL_STATES and p.compartment is not None
        }

    def _pulse(self, cid: int) -> DoorOutcome:
        """What the model expects an opening of ``cid`` to do, counting its pulses."""
        jammed = cid in self.jammed
        self.pulses[cid] += self.rig.pulses_when_jammed if jammed else 1
        if jammed:
            self.condition[cid] = Condition.FAULT
            return DoorOutcome.REFUSED
        return DoorOutcome.OPENED

    def _reserve(self, needs: ParcelNeeds, call: Callable[[], intake.Reservation]) -> None:
        held = self._held()
        free = [
            c
            for c in self.rig.layout.compartments
            if self.condition[c.id] is Condition.OK and c.id not in held
        ]
        expected = choose(needs, free)
        try:
            reservation = call()
        except NoFreeCompartment:
            assert expected is None, f"station said full, but {expected} was free"
            return
        assert expected is not None
        assert reservation.compartment_id == expected.id
        model = self.parcels.get(reservation.parcel_id)
        if model is None:
            self.parcels[reservation.parcel_id] = ModelParcel(
                P.RESERVED, expected.id, reservation.reserved_until, created=self.clock.now
            )
        else:
            model.state, model.compartment = P.RESERVED, expected.id
            model.reserved_until = reservation.reserved_until
            model.actions.append("parcel.reserved")
        note(f"parcel {reservation.parcel_id} reserved compartment {expected.id}")

    def _release(self, pid: int) -> None:
        model = self.parcels[pid]
        model.state, model.compartment, model.door_opened = P.ANNOUNCED, None, False
        model.beside = None
        model.actions.append("parcel.released")

    def _inside(self, cid: int, *states: ParcelState) -> list[int]:
        """The model's parcels in compartment ``cid`` in ``states``, in id order."""
        return [p for p in self._in(*states) if self.parcels[p].compartment == cid]

    # --- couriers ----------------------------------------------------------------------
    @rule(size=SIZES, accessible=st.booleans(), recipient=RECIPIENTS, cold=COLD, amount=AMOUNTS)
    def reserve_new(
        self,
        size: SizeClass,
        accessible: bool,
        recipient: str | None,
        cold: ColdKind | None = None,
        amount: int = 0,
    ) -> None:
        data = intake.ParcelInput(
            carrier="DHL",
            tracking_number=self._tracking("T"),
            recipient_name="R",
            recipient_email=recipient,
            size=size,
            needs_accessible=accessible,
            cold=cold,
            amount_due_cents=amount,
        )
        known = set(self.parcels)
        self._reserve(data.needs(), lambda: self.ops.reserve_new(data))
        for pid in set(self.parcels) - known:
            self.parcels[pid].recipient = recipient
            self.parcels[pid].cold = cold
            self.parcels[pid].due = amount

    @rule(size=SIZES, deliver=st.booleans())
    def a_carrier_announces_and_its_courier_brings_that_number(
        self, size: SizeClass, deliver: bool
    ) -> None:
        """A carrier announces a parcel (as the hub's ``announce`` command does); the same
        number again is refused while it is live; a courier who gives that tracking number
        (typed or scanned, with what the courier typed) deposits the announced parcel
        itself, never a second one beside its ghost."""
        number = self._tracking("A")
        data = intake.ParcelInput(
            carrier="DHL", tracking_number=number, recipient_name="R", size=size
        )
        pid = deposit.announce(self.station, actor="hub:carrier", parcel=data)
        self.parcels[pid] = ModelParcel(
            P.ANNOUNCED, None, None, actions=["parcel.announced"], created=self.clock.now
        )
        try:
            deposit.announce(self.station, actor="hub:carrier", parcel=data)
            raise AssertionError("one tracking number became two live parcels")
        except TrackingNumberLive:
            pass
        if not deliver:
            return
        known = set(self.parcels)
        typed = intake.ParcelInput(
            carrier="DHL", tracking_number=number, recipient_name="typed by hand", size=size
        )
        self._reserve(data.needs(), lambda: self.ops.reserve_new(typed))
        assert set(self.parcels) == known, "the announced parcel was deposited as a new one"

    @rule(size=SIZES, recipient=RECIPIENTS, cold=COLD, amount=AMOUNTS)
    def a_courier_delivers_one_parcel_all_the_way(
        self,
        size: SizeClass,
        recipient: str | None,
        cold: ColdKind | None = None,
        amount: int = 0,
    ) -> None:
        """Reserve, open, put in and close in one step, so that stations with several
        stored parcels (and recipients with several) are reached often."""
        known = set(self.parcels)
        self.reserve_new(size, False, recipient, cold, amount)
        new = [pid for pid in self.parcels if pid not in known]
        if not new:
            return
        model = self.parcels[new[0]]
        assert model.compartment is not None
        self._deposit(new[0])
        if model.door_opened:
            self._put_in_and_close(new[0])

    @precondition(lambda self: self._in(P.ANNOUNCED))
    @rule(data=st.data())
    def reserve_again(self, data: st.DataObject) -> None:
        pid = data.draw(st.sampled_from(self._in(P.ANNOUNCED)))
        with self.station.db.read() as session:
            row = session.get(Parcel, pid)
            assert row is not None
            needs = ParcelNeeds(
                size=row.size, accessible=row.needs_accessible, cold=self.parcels[pid].cold
            )
        self._reserve(needs, lambda: self.ops.reserve(pid))

    def _waiting(self) -> list[int]:
        return [p for p in self._in(P.RESERVED) if not self.parcels[p].door_opened]

    @precondition(lambda self: self._waiting())
    @rule(data=st.data())
    def deposit(self, data: st.DataObject) -> None:
        self._deposit(data.draw(st.sampled_from(self._waiting())))

    def _deposit(self, pid: int) -> None:
        model = self.parcels[pid]
        assert model.compartment is not None
        expected = self._pulse(model.compartment)
        result = self.ops.deposit(pid)
        assert result.outcome is expected
        if expected is DoorOutcome.OPENED:
            model.door_opened = True
        else:
            self._release(pid)

    def _open_for_deposit(self) -> list[int]:
        return [p for p in self._in(P.RESERVED) if self.parcels[p].door_opened]

    @precondition(lambda self: self._open_for_deposit())
    @rule(data=st.data())
    def courier_puts_parcel_in_and_closes(self, data: st.DataObject) -> None:
        self._put_in_and_close(data.draw(st.sampled_from(self._open_for_deposit())))

    def _put_in_and_close(self, pid: int) -> None:
        model = self.parcels[pid]
        assert model.compartment is not None
        self.rig.hands.put(model.compartment)
        self.rig.hands.close(model.compartment)
        stored = self.ops.confirm(pid)
        model.state, model.pin, model.qr = P.STORED, stored.code.pin, stored.code.qr_token
        model.deadline = stored.deadline
        model.actions.append("parcel.stored")
        # the parcels it lies beside wait as long (an expired one waits again)
        self._align(model.compartment, stored.deadline, but=pid)
        together = {pid} | {
            other
            for other in self._in(P.STORED)
            if model.recipient is not None and self.parcels[other].recipient == model.recipient
        }
        assert set(stored.opens) == together, (stored.opens, together)
        self.codes.append(ModelCode(stored.code.pin, stored.code.qr_token, frozenset(together)))

    def _align(self, cid: int, deadline: datetime, *, but: int) -> None:
        """A deadline moved in compartment ``cid``: the others there follow it."""
        for other in self._inside(cid, P.STORED, P.EXPIRED):
            if other == but:
                continue
            mate = self.parcels[other]
            if mate.state is P.EXPIRED:
                mate.state = P.STORED
                mate.actions.append("parcel.extended")
            mate.deadline = deadline

    # --- customers ---------------------------------------------------------------------
    def _live_codes(self) -> list[ModelCode]:
        stored = set(self._in(P.STORED))
        return [code for code in self.codes if code.parcels & stored]

    @precondition(lambda self: self._live_codes())
    @rule(data=st.data(), by_qr=st.booleans())
    def collect_with_the_right_code(self, data: st.DataObject, by_qr: bool) -> None:
        code = data.draw(st.sampled_from(self._live_codes()))
        waiting = sorted(code.parcels & set(self._in(P.STORED)))
        compartments: list[int] = []
        for pid in waiting:  # one door per compartment, in the order of its first parcel
            cid = self.parcels[pid].compartment
            assert cid is not None
            if cid not in compartments:
                compartments.append(cid)
        if any(self._inside(cid, P.RESERVED) for cid in compartments):
            # a courier is putting a parcel beside them: no door opens, try again later
            with contextlib.suppress(DoorBusy):
                self.ops.collect(code.qr if by_qr else code.pin, next(self.terminals))
                raise AssertionError("a door opened while a courier filled it")
            return
        behind = [pid for cid in compartments for pid in self._inside(cid, P.STORED)]
        if self._refused_unpaid(behind, code.qr if by_qr else code.pin):
            return
        expected = [
            (cid, self._pulse(cid), tuple(self._inside(cid, P.STORED))) for cid in compartments
        ]
        result = self.ops.collect(code.qr if by_qr else code.pin, next(self.terminals))
        assert [(d.compartment_id, d.outcome, d.parcel_ids) for d in result.doors] == expected
        for cid, outcome, pids in expected:
            if outcome is not DoorOutcome.OPENED:
                self._door_did_not_open_for(pids)
            if outcome is DoorOutcome.OPENED and len(pids) > 1:
                self.runs["shared"] = self.runs.get("shared", 0) + 1
            if outcome is DoorOutcome.OPENED:
                for pid in pids:  # the whole compartment: those beside the code's ones too
                    model = self.parcels[pid]
                    model.state = P.COLLECTED
                    model.actions.append("parcel.collected")
                self.rig.hands.take(cid)
                self.rig.hands.close(cid)

    @rule(code=st.one_of(st.text(alphabet="0123456789", min_size=1, max_size=12), st.text()))
    def collect_with_a_wrong_code(self, code: str) -> None:
        live = {c.pin for c in self.codes} | {c.qr for c in self.codes}
        if code.strip() in live or normalize_pin(code) in live or not code.strip():
            return
        try:
            self.ops.collect(code, GUESSER + next(self.terminals))
        except (CodeInvalid, TooManyAttempts):
            pass
        else:
            raise AssertionError(f"code {code!r} opened something")

    def _spent_codes(self) -> list[ModelCode]:
        stored = set(self._in(P.STORED))
        return [code for code in self.codes if not code.parcels & stored]

    @precondition(lambda self: self._spent_codes())
    @rule(data=st.data())
    def collect_with_a_spent_code(self, data: st.DataObject) -> None:
        code = data.draw(st.sampled_from(self._spent_codes()))
        try:
            self.ops.collect(code.pin, next(self.terminals))
        except CodeInvalid:
            return
        raise AssertionError(f"the spent code of parcels {sorted(code.parcels)} was accepted")
