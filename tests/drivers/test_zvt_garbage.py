"""Garbage and torn APDUs from the terminal are found and never taken for an approval.

The station's side is the real link and conversation on one end of a real socket pair;
the other end plays bytes made by hypothesis: random ones, a good approval cut anywhere,
and a good approval with a byte no terminal sends slipped in between two messages.
"""

from __future__ import annotations

import socket
import threading

from hypothesis import given
from hypothesis import strategies as st

from drivers.zvt import outcome
from drivers.zvt.client import ZvtTerminal
from drivers.zvt.link import Link
from drivers.zvt.sequence import Ending, run
from locker.payments.terminal import TerminalOutcome
from tests.zvt_support import FAST, hexb

AMOUNT = 2040
MESSAGES = [
    hexb("80 00 00"),
    hexb("04 FF 02 0A 3C"),
    hexb("04 0F 12 27 00 04 00 00 00 00 20 40 0B 00 00 07 87 00 42 8A 05"),
    hexb("06 0F 00"),
]
APPROVAL = b"".join(MESSAGES)
BOUNDARIES = [sum(len(m) for m in MESSAGES[:i]) for i in range(len(MESSAGES))]
NOT_A_CLASS = st.integers(0, 255).filter(lambda b: b not in {0x80, 0x84, 0x04, 0x06})


def played(stream: bytes) -> TerminalOutcome:
    """Play ``stream`` as the terminal's side, then hang up; the station's verdict."""
    station, terminal = socket.socketpair()

    def play() -> None:
        with terminal:
            terminal.recv(64)  # the command
            terminal.sendall(stream)
            terminal.shutdown(socket.SHUT_WR)
            while terminal.recv(64):  # the station's acknowledgements, until it closes
                pass

    player = threading.Thread(target=play)
    player.start()
    command = ZvtTerminal.authorisation(AMOUNT)
    with Link(station) as link:
        ex = run(link, command, FAST)
    player.join()
    return outcome.judge(ex, AMOUNT).outcome


def test_the_good_approval_is_approved() -> None:
    assert played(APPROVAL) is TerminalOutcome.APPROVED


@given(st.binary(max_size=200))
def test_random_bytes_are_never_an_approval(stream: bytes) -> None:
    assert played(stream) is not TerminalOutcome.APPROVED


@given(st.integers(0, len(APPROVAL) - 1))
def test_an_approval_cut_anywhere_is_never_an_approval(cut: int) -> None:
    got = played(APPROVAL[:cut])
    assert got is not TerminalOutcome.APPROVED
    if cut > BOUNDARIES[2]:  # the result 00 had come (or was coming): money may be taken
        assert got is TerminalOutcome.LOST


@given(st.sampled_from(BOUNDARIES[1:]), NOT_A_CLASS, st.binary(max_size=20))
def test_garbage_between_messages_is_never_an_approval(at: int, first: int, rest: bytes) -> None:
    stream = APPROVAL[:at] + bytes([first]) + rest + APPROVAL[at:]
    assert played(stream) is not TerminalOutcome.APPROVED


def test_garbage_is_reported_as_such() -> None:
    station, terminal = socket.socketpair()
    with terminal, Link(station) as link:
        terminal.sendall(MESSAGES[0] + b"\x27\x00\x06\x0f\x00")
        ex = run(link, ZvtTerminal.authorisation(AMOUNT), FAST)
    assert ex.ending is Ending.GARBLED
    assert ex.started


def test_a_completion_without_any_result_is_not_an_approval() -> None:
    assert played(MESSAGES[0] + MESSAGES[3]) is TerminalOutcome.LOST


def test_an_approval_of_another_amount_is_not_an_approval() -> None:
    other = hexb("04 0F 0C 27 00 04 00 00 00 00 20 41 87 00 43")
    assert played(MESSAGES[0] + other + MESSAGES[3]) is TerminalOutcome.LOST


def test_a_message_out_of_sequence_ends_it_unapproved() -> None:
    unexpected = hexb("06 01 07 04 00 00 00 00 20 40")  # a terminal never sends a payment
    assert played(MESSAGES[0] + MESSAGES[2] + unexpected + MESSAGES[3]) is TerminalOutcome.LOST


def test_a_terminal_that_skips_the_acknowledgement_may_have_begun() -> None:
    assert played(b"".join(MESSAGES[1:])) is TerminalOutcome.LOST  # strict, not approved
    assert played(hexb("06 1E 01 6C")) is TerminalOutcome.ERROR  # it said it stopped
