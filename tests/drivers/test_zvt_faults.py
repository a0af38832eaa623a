"""Each fault of the simulated terminal, and what the client makes of it over real TCP.

Never APPROVED without result 00 and the completion; once the terminal began, money may
have been taken unless the terminal itself said no: then the outcome is LOST, with the
receipt number when the terminal gave one (so the station can reverse it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from locker.payments.terminal import TerminalOutcome
from sim.zvt import ZvtFault, ZvtTimes
from tests.zvt_support import Rig, rig


@pytest.fixture
def zvt() -> Iterator[Rig]:
    with rig() as r:
        assert r.terminal.register()
        r.clear()
        yield r


def pay(zvt: Rig, cents: int = 2040) -> tuple[TerminalOutcome, list[str]]:
    texts: list[str] = []
    result = zvt.terminal.authorise(cents, texts.append)
    return result.outcome, texts


def test_declined(zvt: Rig) -> None:
    zvt.sim.faults = {ZvtFault.DECLINED}
    result = zvt.terminal.authorise(2040, lambda text: None)
    assert result.outcome is TerminalOutcome.DECLINED
    assert result.result_code == 0x05
    assert result.receipt_number is None
    assert zvt.kinds_sent()[-2:] == ["04 0f", "06 1e"]
    assert zvt.sim.journal == []


def test_the_customer_walks_away_and_the_terminal_gives_up(zvt: Rig) -> None:
    zvt.sim.faults = {ZvtFault.WALK_AWAY}
    outcome, texts = pay(zvt)
    assert outcome is TerminalOutcome.TIMEOUT
    assert texts == ["Insert card"]
    assert zvt.kinds_sent() == ["80 00", "04 ff", "06 1e"]
    assert "06 b0 00" not in zvt.received()  # the terminal's own timeout came first


def test_the_customer_walks_away_and_the_station_aborts_first() -> None:
    slow = ZvtTimes.zero()
    slow.terminal_timeout_s = 30  # longer than the station waits (3 s in FAST)
    with rig(times=slow) as zvt:
        zvt.sim.faults = {ZvtFault.WALK_AWAY}
        result = zvt.terminal.authorise(999, lambda text: None)
        assert result.outcome is TerminalOutcome.TIMEOUT
        assert "06 b0 00" in zvt.received()  # the station's abort
        assert zvt.kinds_sent()[-2:] == ["80 00", "06 1e"]  # taken, then the abort's end
        assert zvt.sim.journal == []


def test_the_terminal_busy_refuses_and_nothing_starts(zvt: Rig) -> None:
    zvt.sim.faults = {ZvtFault.BUSY}
    outcome, texts = pay(zvt)
    assert outcome is TerminalOutcome.BUSY
    assert texts == []
    assert zvt.kinds_sent() == ["84 a0"]


def test_a_second_station_client_finds_the_terminal_busy() -> None:
    slow = ZvtTimes.zero()
    slow.card_s = 1.0
    with rig(times=slow) as zvt:
        assert zvt.terminal.register()
        began = threading.Event()
        first: list[TerminalOutcome] = []

        def customer() -> None:
            first.append(zvt.terminal.authorise(100, lambda text: began.set()).outcome)

        thread = threading.Thread(target=customer)
        thread.start()
        assert began.wait(5)
        # the same client: refused at once, without a word to the terminal
        assert zvt.terminal.authorise(200, lambda t: None).outcome is TerminalOutcome.BUSY
        other = zvt.client()  # another client: the terminal itself says busy
        assert other.authorise(300, lambda t: None).outcome is TerminalOutcome.BUSY
        thread.join()
        assert first == [TerminalOutcome.APPROVED]
        assert [p.amount_cents for p in zvt.sim.journal] == [100]


def test_the_link_lost_after_approval_is_lost_money_with_its_receipt(zvt: Rig) -> None:
    zvt.sim.faults = {ZvtFault.LOST_AFTER_APPROVAL}
    result = zvt.terminal.authorise(2040, lambda text: None)
    assert result.outcome is TerminalOutcome.LOST
    assert result.result_code == 0
    assert result.receipt_number == "0001"  # what a reversal needs
    assert zvt.sim.taken_cents() == 2040  # the terminal did take it
    zvt.settle()  # the terminal has ended the lost transaction (else: busy, 0xA0)
    zvt.sim.faults = set()
    assert zvt.terminal.reverse("0001").outcome is TerminalOutcome.APPROVED
    assert zvt.sim.taken_cents() == 0


def test_a_completion_that_never_comes_is_lost_money(zvt: Rig) -> None:
    zvt.sim.faults = {ZvtFault.NO_COMPLETION}
    result = zvt.terminal.authorise(2040, lambda text: None)
    assert result.outcome is TerminalOutcome.LOST
    assert result.receipt_number == "0001"
    assert "06 0f" not in zvt.kinds_sent()
    assert "06 b0 00" not in zvt.received()  # no abort after an approval


def test_unknown_bitmaps_are_skipped(zvt: Rig) -> None:
    zvt.sim.faults = {ZvtFault.UNKNOWN_BITMAPS}
    texts: list[str] = []
    result = zvt.terminal.authorise(2040, texts.append)
    assert result.outcome is TerminalOutcome.APPROVED
    assert (result.receipt_number, result.card_type, result.amount_cents) == (
        "0001",
        "girocard",
        2040,
    )
    assert texts[:2] == ["Karte einstecken", "PIN eingeben"]  # the terminal's own words


@pytest.mark.parametrize("fault", [ZvtFault.GARBAGE, ZvtFault.TORN])
def test_garbage_or_a_torn_status_is_never_an_approval(zvt: Rig, fault: ZvtFault) -> None:
    zvt.sim.faults = {fault}
    result = zvt.terminal.authorise(2040, lambda text: None)
    assert result.outcome is TerminalOutcome.LOST  # the terminal did approve: find out
    assert zvt.terminal.counters.garbled == (fault is ZvtFault.GARBAGE)
    assert zvt.sim.taken_cents() == 2040


def test_after_a_fault_the_next_payment_goes_through(zvt: Rig) -> None:
    harmless = {ZvtFault.UNKNOWN_BITMAPS, ZvtFault.NO_REVERSAL}  # a payment goes through
    for fault in ZvtFault:
        zvt.sim.faults = {fault}
        assert (pay(zvt)[0] is TerminalOutcome.APPROVED) == (fault in harmless), fault
        zvt.sim.faults = set()
        assert pay(zvt, 100)[0] is TerminalOutcome.APPROVED


def test_the_customer_cancels_at_the_kiosk_and_the_station_aborts() -> None:
    slow = ZvtTimes.zero()
    slow.card_s = 30  # the card never comes in the test's time
    with rig(times=slow) as zvt:
        shown = threading.Event()
        done: list[TerminalOutcome] = []

        def customer() -> None:
            result = zvt.terminal.authorise(2040, lambda text: shown.set())
            done.append(result.outcome)

        thread = threading.Thread(target=customer)
        thread.start()
        assert shown.wait(5)  # "Insert card" is on the kiosk
        zvt.terminal.cancel()
        thread.join()
        assert done == [TerminalOutcome.TIMEOUT]
        assert "06 b0 00" in zvt.received()
        assert zvt.kinds_sent()[-1] == "06 1e"
        assert zvt.sim.journal == []


def test_a_cancel_before_a_payment_is_forgotten_and_one_after_approval_changes_nothing(
    zvt: Rig,
) -> None:
    zvt.terminal.cancel()  # before the payment: forgotten when it starts
    assert pay(zvt)[0] is TerminalOutcome.APPROVED
    zvt.clear()
    zvt.sim.faults = {ZvtFault.NO_COMPLETION}  # result 00, then 0.3 s of silence

    def cancel_once_approved() -> None:
        # the command and four acknowledgements: three texts and the status were taken in
        deadline = time.monotonic() + 10
        while len(zvt.sim.received) < 5 and time.monotonic() < deadline:
            time.sleep(0.001)
        zvt.terminal.cancel()

    later = threading.Thread(target=cancel_once_approved)
    later.start()
    result = zvt.terminal.authorise(100, lambda text: None)
    later.join()
    assert result.outcome is TerminalOutcome.LOST
    assert "06 b0 00" not in zvt.received()  # no abort after an approval


def test_a_reversal_the_terminal_refuses(zvt: Rig) -> None:
    paid = zvt.terminal.authorise(1500, lambda text: None)
    assert paid.outcome is TerminalOutcome.APPROVED
    assert paid.receipt_number is not None
    zvt.sim.faults = {ZvtFault.NO_REVERSAL}
    zvt.clear()
    result = zvt.terminal.reverse(paid.receipt_number)
    assert result.outcome is not TerminalOutcome.APPROVED
    assert result.result_code == 0xB5  # reversal not possible
    assert zvt.kinds_sent()[-1] == "06 1e"
    assert zvt.sim.sent[-1].hex(" ") == "06 1e 01 b5"
    assert zvt.sim.taken_cents() == 1500  # the money stays taken: staff refund it by hand


def test_the_customer_is_stepped_through_the_texts() -> None:
    slow = ZvtTimes(card_s=600, pin_s=600, host_s=0, ack_timeout_s=2)
    with rig(times=slow) as zvt:
        texts: list[str] = []
        done: list[TerminalOutcome] = []
        worker = threading.Thread(
            target=lambda: done.append(zvt.terminal.authorise(700, texts.append).outcome)
        )
        worker.start()
        for seen in ("Insert card", "Please watch the PIN pad"):
            deadline = time.monotonic() + 10
            while seen not in texts:
                assert time.monotonic() < deadline, texts
                time.sleep(0.01)
            zvt.sim.step()  # the card goes in; the PIN is typed
        worker.join(10)
        assert done == [TerminalOutcome.APPROVED]
        assert zvt.sim.taken_cents() == 700
