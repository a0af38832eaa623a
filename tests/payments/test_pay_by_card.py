"""Pay by card through the CardTerminal protocol (a scripted terminal: the ZVT client is
tested against the simulator on its own): approved only with result and completion,
declined and lost payments open nothing, a door that does not open reverses it, and
the link and the terminal never both charge."""

from __future__ import annotations

import pytest

from locker.alerts import open_alerts
from locker.payments import desk, ledger
from locker.payments.cashier import Cashier
from locker.payments.due import PaymentBusy, pay_token
from locker.payments.records import Method, PayState
from locker.payments.terminal import TerminalOutcome
from locker.services import staff
from locker.station import Station, get_parcel
from locker.testkit.memory_locks import InMemoryLocks
from locker.testkit.scripted_terminal import ScriptedTerminal
from locker.types import ParcelState
from sim.payment_provider import FakeStripe
from tests.locker.service_helpers import state_of
from tests.payments.helpers import payments, store_due


def test_paid_at_the_terminal_the_door_opens_once(
    station: Station, locks: InMemoryLocks, cashier: Cashier, terminal: ScriptedTerminal
) -> None:
    stored = store_due(station, locks, 2040)
    assert stored.code is not None
    said: list[str] = []
    assert cashier.pay_by_card(stored.parcel_id, actor="kiosk:1", on_text=said.append) is (
        PayState.APPROVED
    )
    assert said == ["Insert card", "PIN please"]
    assert cashier.collect(code=stored.code.pin, terminal="kiosk:1").all_opened
    [payment] = payments(station, stored.parcel_id)
    assert payment.receipt_number == "0001"
    assert payment.state is PayState.APPROVED
    assert terminal.taken == {"0001": 2040}


def test_declined_timeout_busy_and_lost_open_nothing(
    station: Station, locks: InMemoryLocks, cashier: Cashier, terminal: ScriptedTerminal
) -> None:
    stored = store_due(station, locks, 700)
    terminal.script = [
        TerminalOutcome.DECLINED,
        TerminalOutcome.TIMEOUT,
        TerminalOutcome.BUSY,
        TerminalOutcome.LOST,
    ]
    for _ in range(4):
        state = cashier.pay_by_card(stored.parcel_id, actor="kiosk:1", on_text=lambda _t: None)
        assert state is not PayState.APPROVED
    assert [p.state for p in payments(station, stored.parcel_id)] == [
        PayState.FAILED,
        PayState.FAILED,
        PayState.FAILED,
        PayState.REVERSED,
    ]
    assert terminal.taken == {}
    assert terminal.reversed == {"0001": 700}  # lost: reversed
    assert locks.pulses(stored.compartment_id) == 1
    assert state_of(station, stored.parcel_id) is ParcelState.STORED


def test_no_door_reverses_the_card_payment_or_alerts_staff(
    station: Station, locks: InMemoryLocks, cashier: Cashier, terminal: ScriptedTerminal
) -> None:
    first = store_due(station, locks, 1200, tracking="A")
    second = store_due(station, locks, 1300, tracking="B")
    for stored in (first, second):
        assert stored.code is not None
        state = cashier.pay_by_card(stored.parcel_id, actor="kiosk:1", on_text=lambda _t: None)
        assert state is PayState.APPROVED, payments(station, stored.parcel_id)
        locks.jam(stored.compartment_id)
    assert first.code is not None
    assert second.code is not None
    cashier.collect(code=first.code.pin, terminal="kiosk:1")
    assert payments(station, first.parcel_id)[0].state is PayState.REVERSED
    terminal.reversals_fail = True
    cashier.collect(code=second.code.pin, terminal="kiosk:1")
    assert payments(station, second.parcel_id)[0].state is PayState.REFUND_FAILED
    with station.db.read() as session:
        [alert] = [a for a in open_alerts(session) if a.kind.value == "payment_refund"]
    assert "receipt 0002" in alert.detail
    assert "EUR 13.00" in alert.detail


def test_the_link_and_the_terminal_never_both_charge(
    station: Station,
    locks: InMemoryLocks,
    cashier: Cashier,
    terminal: ScriptedTerminal,
    fake_stripe: FakeStripe,
) -> None:
    stored = store_due(station, locks, 900)
    url = cashier.link_for(pay_token(station.hasher, stored.parcel_id), actor="customer")
    assert url is not None
    fake_stripe.pay(url.rsplit("/", 1)[1])  # paid on the phone, the webhook lost
    assert cashier.pay_by_card(stored.parcel_id, actor="kiosk:1", on_text=print) is (
        PayState.APPROVED
    )
    assert terminal.taken == {}  # the card was not charged
    other = store_due(station, locks, 400, tracking="C")
    url = cashier.link_for(pay_token(station.hasher, other.parcel_id), actor="customer")
    assert url is not None
    cashier.pay_by_card(other.parcel_id, actor="kiosk:1", on_text=lambda _t: None)
    assert fake_stripe.ledger.sessions[url.rsplit("/", 1)[1]]["status"] == "expired"


def test_end_of_day_through_the_protocol_is_audited(
    station: Station, locks: InMemoryLocks, cashier: Cashier
) -> None:
    stored = store_due(station, locks, 2040)
    cashier.pay_by_card(stored.parcel_id, actor="kiosk:1", on_text=lambda _t: None)
    totals = desk.end_of_day(station, cashier.terminal, actor="admin:root")
    assert (totals.ok, totals.total_cents, totals.count) == (True, 2040, 1)
    assert desk.day_totals(station, "Europe/Berlin").taken == {"card": 2040}


def test_a_card_payment_cut_off_by_a_crash_goes_to_staff(
    station: Station, locks: InMemoryLocks, cashier: Cashier
) -> None:

    stored = store_due(station, locks, 2040)
    with station.db.write() as session:  # the intent, as a crash left it
        ledger.begin(
            session,
            get_parcel(session, stored.parcel_id),
            Method.CARD,
            actor="kiosk:1",
            now=station.now(),
        )
    cashier.recover()
    [payment] = payments(station, stored.parcel_id)
    assert payment.state is PayState.UNKNOWN
    with station.db.read() as session:
        [alert] = [a for a in open_alerts(session) if a.kind.value == "payment_unknown"]
    assert "check the terminal's journal" in alert.detail
    assert "EUR 20.40" in alert.detail


def test_money_owed_back_blocks_a_second_payment_and_a_parcel_sent_back_is_refunded(
    station: Station, locks: InMemoryLocks, cashier: Cashier, terminal: ScriptedTerminal
) -> None:
    stored = store_due(station, locks, 800)
    cashier.pay_by_card(stored.parcel_id, actor="kiosk:1", on_text=lambda _t: None)
    [payment] = payments(station, stored.parcel_id)
    terminal.reversals_fail = True
    assert cashier.give_back(payment.id or 0, actor="staff:s", reason="x") is PayState.REFUND_FAILED
    with pytest.raises(PaymentBusy):
        cashier.pay_by_card(stored.parcel_id, actor="kiosk:1", on_text=lambda _t: None)
    terminal.reversals_fail = False
    assert cashier.give_back(payment.id or 0, actor="staff:s", reason="x") is PayState.REVERSED
    other = store_due(station, locks, 300, tracking="SENT-BACK")
    cashier.pay_by_card(other.parcel_id, actor="kiosk:1", on_text=lambda _t: None)
    station.clock.advance(days=8)  # type: ignore[attr-defined]
    staff.expire(station)
    assert staff.take_back(station, actor="courier:shop", parcel_id=other.parcel_id).opened
    cashier.sweep()
    assert [p.state for p in payments(station, other.parcel_id)] == [PayState.REVERSED]
