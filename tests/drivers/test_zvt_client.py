"""The ZVT client against the simulated terminal over real TCP, byte for byte:
registration, authorisation, reversal, end of day and status enquiry."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from locker.payments.terminal import CardTerminal, TerminalOutcome
from tests.zvt_support import Rig, hexb, rig

ACK = "80 00 00"


@pytest.fixture
def zvt() -> Iterator[Rig]:
    with rig() as r:
        yield r


def test_the_client_is_a_card_terminal(zvt: Rig) -> None:
    terminal: CardTerminal = zvt.terminal
    assert terminal.register()


def test_registration_byte_for_byte(zvt: Rig) -> None:
    assert zvt.terminal.register()
    assert zvt.received() == ["06 00 07 12 34 56 be 49 09 78", ACK]
    assert zvt.kinds_sent() == ["80 00", "06 0f"]
    assert zvt.sim.registered
    assert zvt.sim.config == 0xBE


def test_a_wrong_password_is_refused_at_registration(zvt: Rig) -> None:
    assert not zvt.client(password="654321").register()
    assert zvt.kinds_sent() == ["84 83"]
    assert not zvt.sim.registered


def test_an_authorisation_byte_for_byte_with_texts_and_receipt(zvt: Rig) -> None:
    assert zvt.terminal.register()
    zvt.clear()
    texts: list[str] = []
    result = zvt.terminal.authorise(2040, texts.append)
    assert result.outcome is TerminalOutcome.APPROVED
    assert (result.result_code, result.amount_cents) == (0, 2040)
    assert (result.receipt_number, result.trace_number) == ("0001", "000001")
    assert result.card_type == "girocard"
    assert texts == ["Insert card", "Please watch the PIN pad", "Please wait"]
    # ZVT's order: the command acknowledged, then every terminal message acknowledged
    assert zvt.kinds_sent() == ["80 00", "04 ff", "04 ff", "04 ff", "04 0f", "06 d3", "06 0f"]
    assert zvt.received() == ["06 01 07 04 00 00 00 00 20 40"] + [ACK] * 6
    sent, received = zvt.terminal.last_frames
    assert sent == [hexb("06 01 07 04 00 00 00 00 20 40")] + [hexb(ACK)] * 6
    assert received == zvt.sim.sent  # the same bytes at both ends of the wire
    assert [(p.receipt, p.amount_cents) for p in zvt.sim.journal] == [(1, 2040)]


def test_the_client_registers_by_itself_before_its_first_payment(zvt: Rig) -> None:
    result = zvt.terminal.authorise(500, lambda text: None)
    assert result.outcome is TerminalOutcome.APPROVED
    assert zvt.received()[0].startswith("06 00")


def test_a_terminal_that_forgot_the_station_is_registered_again(zvt: Rig) -> None:
    assert zvt.terminal.register()
    zvt.sim.forget_registration()  # the terminal restarted
    zvt.clear()
    result = zvt.terminal.authorise(700, lambda text: None)
    assert result.outcome is TerminalOutcome.APPROVED
    commands = [f for f in zvt.received() if f != ACK]
    assert [c[:5] for c in commands] == ["06 01", "06 00", "06 01"]  # refused, register, pay
    assert len(zvt.sim.journal) == 1  # one payment, not two


def test_a_reversal_after_the_terminal_restarted_registers_again(zvt: Rig) -> None:
    assert zvt.terminal.authorise(300, lambda text: None).outcome is TerminalOutcome.APPROVED
    zvt.sim.forget_registration()
    zvt.clear()
    assert zvt.terminal.reverse("0001").outcome is TerminalOutcome.APPROVED
    commands = [f[:5] for f in zvt.received() if f != ACK]
    assert commands == ["06 30", "06 00", "06 30"]
    assert zvt.sim.taken_cents() == 0


def test_receipt_lines_one_by_one_when_the_station_asks_for_lines(zvt: Rig) -> None:
    lines = zvt.client(config=0x3E)  # without 80: print lines (06 D1), not text blocks
    assert lines.authorise(1234, lambda text: None).outcome is TerminalOutcome.APPROVED
    assert zvt.kinds_sent().count("06 d1") == 5
    assert "06 d3" not in zvt.kinds_sent()


def test_a_reversal_byte_for_byte_and_only_once(zvt: Rig) -> None:
    paid = zvt.terminal.authorise(2040, lambda text: None)
    assert paid.receipt_number == "0001"
    zvt.clear()
    back = zvt.terminal.reverse("0001")
    assert back.outcome is TerminalOutcome.APPROVED
    assert (back.amount_cents, back.receipt_number) == (2040, "0002")
    assert zvt.received()[0] == "06 30 06 12 34 56 87 00 01"
    assert zvt.kinds_sent() == ["80 00", "04 ff", "04 0f", "06 d3", "06 0f"]
    assert zvt.sim.taken_cents() == 0
    again = zvt.terminal.reverse("0001")
    assert again.outcome is TerminalOutcome.DECLINED
    assert again.text == "already reversed"
    assert again.result_code == 0xB4
    unknown = zvt.terminal.reverse("0099")
    assert unknown.outcome is TerminalOutcome.DECLINED
    assert unknown.text == "reversal not possible"


def test_end_of_day_byte_for_byte_with_the_days_totals(zvt: Rig) -> None:
    for cents in (1000, 2550, 400):
        assert zvt.terminal.authorise(cents, lambda text: None).outcome is TerminalOutcome.APPROVED
    assert zvt.terminal.reverse("0003").outcome is TerminalOutcome.APPROVED
    zvt.clear()
    totals = zvt.terminal.end_of_day()
    assert zvt.received()[0] == "06 50 03 12 34 56"
    assert (totals.ok, totals.total_cents, totals.count) == (True, 3550, 2)
    after = zvt.terminal.end_of_day()  # a new batch: empty
    assert (after.ok, after.total_cents, after.count) == (True, 0, 0)
    assert zvt.terminal.reverse("0001").outcome is TerminalOutcome.DECLINED  # settled


def test_status_enquiry(zvt: Rig) -> None:
    assert zvt.terminal.enquire() == (True, "ready")
    assert zvt.received()[0] == "05 01 03 12 34 56"


def test_no_terminal_at_the_address_is_no_payment() -> None:
    with rig() as r:
        port = r.port
    from drivers.zvt import ZvtTerminal
    from tests.zvt_support import FAST, PASSWORD

    gone = ZvtTerminal("127.0.0.1", port, password=PASSWORD, timeouts=FAST)
    assert not gone.register()
    result = gone.authorise(100, lambda text: None)
    assert result.outcome is not TerminalOutcome.APPROVED


def test_an_amount_the_terminal_cannot_take_is_refused_before_a_byte_is_sent(zvt: Rig) -> None:
    for cents in (-1, 10**12):
        assert zvt.terminal.authorise(cents, lambda text: None).outcome is TerminalOutcome.ERROR
    assert zvt.sim.received == []


def test_the_password_never_shows_in_the_clients_repr(zvt: Rig) -> None:
    assert "123456" not in repr(zvt.terminal)


def test_no_card_data_nor_the_password_reaches_the_log(
    zvt: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="drivers.zvt")
    assert zvt.terminal.reverse("0042").outcome is TerminalOutcome.DECLINED  # (registers)
    assert zvt.terminal.authorise(2040, lambda text: None).outcome is TerminalOutcome.APPROVED
    logged = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("drivers"))
    assert "zvt rx 04 0f (" in logged  # the status information by its length only
    assert "22 f0 f2 67 26" not in logged  # the masked card number the simulator sends
    assert "1234" not in logged  # nor the receipt's "Karte ####1234"
    assert "12 34 56" not in logged  # nor the terminal's password
    assert "zvt tx 06 00 07 ** ** ** be 49 09 78" in logged
    assert "zvt tx 06 30 06 ** ** ** 87 00 42" in logged
