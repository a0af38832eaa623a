"""Pay at pick-up in the station state machine (:mod:`tests.stateful_station`): parcels
with and without an amount due, paid by link (the real Stripe SDK against the fake
provider on loopback: webhooks delivered or lost, the provider down), by card at the
kiosk's terminal (the station's own ZVT client over TCP against the ZVT terminal simulator,
its times zero: approved, declined, walked away, busy, the link lost after approval, no
completion), in cash or waived at the desk, refunded by staff; refunds and reversals that
fail (the simulator refuses them).

Invariants: the door of an unpaid parcel never opens (a collected parcel with an amount
had its payment approved before its door's intent), and for every parcel the money
taken (at the provider, in the terminal simulator's journal, at the desk) less what went
back equals its amount
when it is paid or collected, nothing otherwise, unless the station owes it back and
told staff (``refund_failed``). A mixin: it uses the machine's station, model and ops.
"""

from __future__ import annotations

import contextlib
import time
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule
from sqlmodel import select

from drivers.zvt import Timeouts, ZvtTerminal
from locker.payments import desk
from locker.payments.cashier import Cashier
from locker.payments.due import PaymentRequired, pay_token
from locker.payments.provider import ProviderUnavailable
from locker.payments.records import Method, Payment, PayState
from locker.payments.stripe_link import StripeLinks
from locker.store.tables import DoorOp, Parcel
from locker.types import DoorPurpose, ParcelState, SizeClass
from sim.payment_provider import FakeStripe
from sim.zvt import TerminalSim, ZvtFault, ZvtTimes, serve_zvt

if TYPE_CHECKING:
    from locker.station import Station

P = ParcelState
KEY, SECRET = "sk_test_machine", "whsec_machine"
AMOUNTS = st.sampled_from([0, 0, 0, 500, 2040])
# What the simulated terminal does to a payment (None: it approves it).
CARD_FAULTS = st.sampled_from(
    [
        None,
        None,
        ZvtFault.DECLINED,
        ZvtFault.WALK_AWAY,
        ZvtFault.BUSY,
        ZvtFault.LOST_AFTER_APPROVAL,
        ZvtFault.NO_COMPLETION,
    ]
)
# Short: a fault that makes the client wait (no completion) ends an example quickly.
ZVT_TIMEOUTS = Timeouts(connect_s=2, ack_s=2, transaction_s=5, completion_s=0.2, abort_s=1)


class PaymentRules:
    station: Station
    parcels: dict[int, Any]
    runs: dict[str, int]
    cashier: Cashier
    fake: FakeStripe
    terminal: ZvtTerminal
    zvt: TerminalSim

    def _start_payments(self) -> None:
        self.fake = FakeStripe(api_key=KEY, webhook_secret=SECRET).start()
        self._zvt_stack = ExitStack()
        self.zvt = TerminalSim(times=ZvtTimes.zero())
        port = self._zvt_stack.enter_context(serve_zvt(self.zvt, "127.0.0.1", 0))
        self.terminal = ZvtTerminal(
            "127.0.0.1", port, password=self.zvt.password, timeouts=ZVT_TIMEOUTS
        )
        assert self.terminal.register()
        self.links = StripeLinks(KEY, SECRET, api_base=self.fake.url)
        self._new_cashier()

    def _new_cashier(self) -> None:
        self.cashier = Cashier(self.station, links=self.links, terminal=self.terminal)

    def _stop_payments(self) -> None:
        self.fake.stop()
        self._zvt_stack.close()

    def _unpaid(self) -> list[int]:
        return [
            pid
            for pid in self._in(P.STORED)  # type: ignore[attr-defined]
            if self.parcels[pid].due and not self.parcels[pid].paid and not self.parcels[pid].owed
        ]

    def _paid_waiting(self) -> list[int]:
        return [p for p in self._in(P.STORED) if self.parcels[p].paid]  # type: ignore[attr-defined]

    def _owes(self, pids: list[int] | tuple[int, ...]) -> bool:
        """Is a parcel among ``pids`` unpaid (as far as the station can know)?"""
        return any(self.parcels[p].due and not self.parcels[p].paid for p in pids)

    def _refused_unpaid(self, behind: list[int], code: str) -> bool:
        """Pay, open, confirm: while a parcel behind the doors is unpaid, the code opens
        nothing (True: it was so, and the station said what is due)."""
        if not self._owes(behind):
            return False
        with contextlib.suppress(PaymentRequired):
            self.ops.collect(code, next(self.terminals))  # type: ignore[attr-defined]
            raise AssertionError(f"a door opened for unpaid parcels among {behind}")
        self.runs["asked to pay"] = self.runs.get("asked to pay", 0) + 1
        return True

    def _money_of_returned(self, gone: list[int]) -> None:
        """A parcel sent back: its money went back (cash: staff were told to hand it)."""
        with self.station.db.read() as session:
            for pid in gone:
                states = {
                    p.state
                    for p in session.exec(select(Payment).where(Payment.parcel_id == pid)).all()
                }
                self.parcels[pid].owed = PayState.REFUND_FAILED in states

    def _door_did_not_open_for(self, pids: tuple[int, ...]) -> None:
        """No door opened for these paid parcels: a link or card payment went back."""
        with self.station.db.read() as session:
            for pid in pids:
                methods = {
                    p.method
                    for p in session.exec(select(Payment).where(Payment.parcel_id == pid)).all()
                    if p.state in (PayState.APPROVED, PayState.REFUND_FAILED)
                }
                model = self.parcels[pid]
                if model.paid and model.due and not methods & {Method.CASH, Method.WAIVED}:
                    model.paid = False
                    model.owed = PayState.REFUND_FAILED in {
                        p.state
                        for p in session.exec(select(Payment).where(Payment.parcel_id == pid))
                    }

    # --- the shop -----------------------------------------------------------------------
    @rule(amount=st.sampled_from([500, 2040]), recipient=st.sampled_from([None, "ada@example.org"]))
    def a_click_and_collect_order_to_pay_at_pick_up(
        self, amount: int, recipient: str | None
    ) -> None:
        self.a_courier_delivers_one_parcel_all_the_way(  # type: ignore[attr-defined]
            SizeClass.S, recipient, amount=amount
        )

    # --- customers pay -----------------------------------------------------------------
    @precondition(lambda self: self._unpaid())
    @rule(data=st.data(), webhook=st.booleans(), down=st.booleans())
    def customer_pays_by_link(self, data: st.DataObject, webhook: bool, down: bool) -> None:
        pid = data.draw(st.sampled_from(self._unpaid()))
        self.fake.faults.down = down
        try:
            url = self.cashier.link_for(pay_token(self.station.hasher, pid), actor="customer")
        except ProviderUnavailable:
            assert down
            return
        finally:
            self.fake.faults.down = False
        assert not down
        assert url is not None
        self.fake.pay(url.rsplit("/", 1)[1])
        self.parcels[pid].paid = True  # the station learns it by the webhook or by asking
        self.runs["paid by link"] = self.runs.get("paid by link", 0) + 1
        if webhook:
            payload, header = self.fake.ledger.sent[-1]
            assert self.cashier.webhook(payload, {"Stripe-Signature": header}) == "approved"
            assert self.cashier.webhook(payload, {"Stripe-Signature": header}) == "approved"

    @precondition(lambda self: self._unpaid())
    @rule(data=st.data(), fault=CARD_FAULTS)
    def customer_pays_by_card(self, data: st.DataObject, fault: ZvtFault | None) -> None:
        pid = data.draw(st.sampled_from(self._unpaid()))
        self.zvt.faults = {fault} if fault else set()
        try:
            state = self.cashier.pay_by_card(pid, actor="kiosk:1", on_text=lambda _t: None)
        finally:
            self.zvt.faults = set()
        assert (state is PayState.APPROVED) == (fault is None), (fault, state)
        self.runs["paid by card"] = self.runs.get("paid by card", 0) + (state is PayState.APPROVED)
        self.parcels[pid].paid = state is PayState.APPROVED

    # --- staff -------------------------------------------------------------------------
    @precondition(lambda self: self._unpaid())
    @rule(data=st.data(), method=st.sampled_from([Method.CASH, Method.WAIVED]))
    def staff_settle_at_the_desk(self, data: st.DataObject, method: Method) -> None:
        pid = data.draw(st.sampled_from(self._unpaid()))
        desk.settle_at_desk(self.station, self.links, pid, method, actor="staff:s", reason="r")
        self.parcels[pid].paid = True
        self.parcels[pid].waived = method is Method.WAIVED

    @precondition(lambda self: self._paid_waiting())
    @rule(data=st.data(), fails=st.booleans())
    def staff_refund_a_waiting_parcel(self, data: st.DataObject, fails: bool) -> None:
        pid = data.draw(st.sampled_from(self._paid_waiting()))
        with self.station.db.read() as session:
            held = session.exec(
                select(Payment).where(Payment.parcel_id == pid, Payment.state == PayState.APPROVED)
            ).first()
        if held is None:  # paid by link, the station not told yet: nothing to refund here
            return
        self.fake.faults.refunds_fail = fails
        self.zvt.faults = {ZvtFault.NO_REVERSAL} if fails else set()
        try:
            state = self.cashier.give_back(held.id or 0, actor="staff:s", reason="complaint")
        finally:
            self.fake.faults.refunds_fail = False
            self.zvt.faults = set()
        fallible = held.method in (Method.LINK, Method.CARD)
        assert state is (PayState.REFUND_FAILED if fails and fallible else _returned(held.method))
        self.parcels[pid].paid = self.parcels[pid].waived = False
        self.parcels[pid].owed = state is PayState.REFUND_FAILED

    @rule()
    def the_background_check_runs(self) -> None:
        self.cashier.sweep()

    # --- invariants --------------------------------------------------------------------
    @invariant()
    def no_door_opened_for_an_unpaid_parcel(self) -> None:
        with self.station.db.read() as session:
            for parcel in session.exec(
                select(Parcel).where(Parcel.state == P.COLLECTED, Parcel.amount_due_cents > 0)
            ).all():
                payments = session.exec(select(Payment).where(Payment.parcel_id == parcel.id)).all()
                approved = [
                    p
                    for p in payments
                    if p.approved_at is not None
                    and p.state
                    in (
                        PayState.APPROVED,
                        PayState.REFUND_FAILED,
                        PayState.REVERSED,
                        PayState.REFUNDED,
                        PayState.RETURNING,
                    )
                ]
                assert approved, (parcel.id, payments)
                first = min(p.approved_at for p in approved if p.approved_at is not None)
                opened = session.exec(
                    select(DoorOp).where(
                        DoorOp.purpose == DoorPurpose.COLLECT, DoorOp.outcome == "opened"
                    )
                ).all()
                mine = [op for op in opened if str(parcel.id) in op.parcel_ids.split(",")]
                assert all(op.created_at >= first for op in mine), (parcel.id, first, mine)

    @invariant()
    def money_taken_is_money_for_parcels_or_given_back(self) -> None:
        """Per parcel, what is held of its money (provider, terminal, desk) is its amount
        while it is paid (collected or waiting), nothing once it went back; money the
        station owes back by hand (staff alerted) aside."""
        net = self._net_money()
        for pid, model in self.parcels.items():
            if model.owed:
                continue
            expect = model.due if model.paid and not model.waived else 0
            if model.state is P.RETURNED:
                expect = 0
            assert net.get(pid, 0) == expect, (pid, model.state, model.paid, net.get(pid), expect)

    def _net_money(self) -> dict[int, int]:
        """Per parcel: what the provider, the terminal and the desk hold of its money now."""
        net: dict[int, int] = {}
        for s in self.fake.ledger.sessions.values():
            if s["payment_status"] == "paid":
                pid = int(s["metadata"]["parcel"])
                back = sum(
                    r["amount"]
                    for r in self.fake.ledger.refunds.values()
                    if r["payment_intent"] == s["payment_intent"]
                )
                net[pid] = net.get(pid, 0) + s["amount_total"] - back
        with self.station.db.read() as session:
            payments = session.exec(select(Payment)).all()
        self._zvt_settled()
        held = {f"{t.receipt:04d}": t.amount_cents for t in self.zvt.journal if not t.reversed_by}
        card = [p for p in payments if p.method is Method.CARD and p.receipt_number]
        assert len({p.receipt_number for p in card}) == len(card)  # one receipt, one payment
        for p in card:
            if p.receipt_number in held:
                net[p.parcel_id] = net.get(p.parcel_id, 0) + held.pop(str(p.receipt_number))
        assert not held, held  # the terminal holds no money the station has no payment for
        for p in payments:
            if p.method is Method.CASH and p.state in (
                PayState.APPROVED,
                PayState.REFUND_FAILED,
                PayState.RETURNING,
            ):
                net[p.parcel_id] = net.get(p.parcel_id, 0) + p.amount_cents
        return net

    def _zvt_settled(self) -> None:
        """The terminal has seen the end of every connection (its journal is final)."""
        for _ in range(500):
            if not self.zvt.connections:
                return
            time.sleep(0.002)


def _returned(method: Method) -> PayState:
    return PayState.REVERSED if method is Method.CARD else PayState.REFUNDED
