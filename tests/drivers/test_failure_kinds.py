"""A read that gets no answer says how it failed: bad checksum, torn frame or silence.

A technician commissioning a station needs to tell a board that is not there (silence:
address, power, A/B swapped) from one that answers through noise (a whole frame with a
wrong checksum) or one whose answers are cut short (a torn frame). The faults are injected
in the simulator on the far end of a real pty or TCP socket; the driver only sees bytes.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from drivers.bus import LockBus
from drivers.counters import FailureKind, describe
from drivers.errors import BadFrame, NoAnswer
from drivers.kerong_cu16 import CMD_STATUS, Cu16Board, Cu16Request
from sim.faults import Fault
from tests.drivers.support import PULSE_MS, Served, cu16
from tests.drivers.test_cli import FAST, hw

# Each fault the simulator can put on an answer, and what the driver must call it.
KINDS = [
    (Fault.CORRUPT_BYTE, FailureKind.BAD_CHECKSUM, BadFrame),  # one data byte inverted
    (Fault.TRUNCATED, FailureKind.TORN_FRAME, BadFrame),  # half a frame, then nothing
    (Fault.NO_ANSWER, FailureKind.SILENCE, NoAnswer),  # not one byte
    (Fault.GONE, FailureKind.SILENCE, NoAnswer),  # the board hears nothing at all
]
IDS = [fault.name for fault, _, _ in KINDS]
COUNTER = {
    FailureKind.BAD_CHECKSUM: "attempts_bad_checksum",
    FailureKind.TORN_FRAME: "attempts_torn_frame",
    FailureKind.SILENCE: "attempts_silent",
}


def reads_sent(sim: Served, board: int) -> int:
    frames = (Cu16Request.from_bytes(raw) for _, raw in sim.bus.frames_received)
    return sum(1 for f in frames if f.board == board and f.command == CMD_STATUS)


@pytest.mark.parametrize(("fault", "kind", "error"), KINDS, ids=IDS)
def test_a_failed_read_says_how_every_try_ended(
    sim: Served, line: LockBus, fault: Fault, kind: FailureKind, error: type[Exception]
) -> None:
    sim.bus.inject(fault, board=0)
    board = cu16(line, 0)
    with pytest.raises(error) as raised:
        board.status()
    assert isinstance(raised.value, (NoAnswer, BadFrame))
    assert raised.value.attempts == (kind,) * 3  # the read was still retried twice
    assert raised.value.kind is kind
    assert raised.value.describe() == f"{kind.text} (3 of 3 tries)"
    assert reads_sent(sim, 0) == 3

    failures = board.failures()
    assert failures.last_kind is kind
    assert failures.describe() == f"{kind.text} (3 of 3 tries)"
    assert failures.failed_reads == {kind: 1}
    assert failures.answered_since is False

    counters = line.counters()
    assert getattr(counters, COUNTER[kind]) == 3
    assert counters.timeouts == 3
    others = set(COUNTER.values()) - {COUNTER[kind]}
    assert all(getattr(counters, name) == 0 for name in others)

    sim.bus.clear_faults(board=0)
    board.status()
    after = board.failures()
    assert after.answered_since is True
    assert after.last_kind is kind  # the last failure stays on record


def test_tries_that_failed_differently_are_all_told(sim: Served, line: LockBus) -> None:
    sim.bus.inject(Fault.CORRUPT_BYTE, board=0, count=2)
    sim.bus.inject(Fault.NO_ANSWER, board=0, count=1)
    # the first answer is suppressed (NO_ANSWER wins), the next two arrive corrupted
    with pytest.raises(BadFrame) as raised:
        cu16(line, 0).status()
    assert raised.value.attempts == (
        FailureKind.SILENCE,
        FailureKind.BAD_CHECKSUM,
        FailureKind.BAD_CHECKSUM,
    )
    assert raised.value.describe() == "bad checksum (2 of 3 tries), silence (1 of 3 tries)"


def test_a_read_that_succeeds_on_a_retry_counts_the_failed_try_on_the_bus(
    sim: Served, line: LockBus
) -> None:
    sim.bus.inject(Fault.TRUNCATED, board=0, count=1)
    board = cu16(line, 0)
    board.status()
    assert line.counters().attempts_torn_frame == 1
    assert board.failures().last_kind is None  # the read itself got its answer


@pytest.mark.parametrize(("fault", "kind", "error"), KINDS, ids=IDS)
def test_a_whole_bus_read_notes_the_kind_for_the_board_that_is_missing(
    sim: Served, line: LockBus, fault: Fault, kind: FailureKind, error: type[Exception]
) -> None:
    sim.bus.inject(fault, board=0)
    boards = [cu16(line, 0), cu16(line, 1)]
    found = Cu16Board.read_bus(line, boards)
    assert sorted(found) == [1]
    assert boards[0].failures().last_kind is kind
    assert boards[0].failures().failed_reads == {kind: 1}
    assert boards[1].failures().last_kind is None


@pytest.mark.parametrize(("fault", "kind", "error"), KINDS[:3], ids=IDS[:3])
def test_a_failed_read_back_after_an_unlock_says_how_and_never_pulses_again(
    sim: Served, line: LockBus, fault: Fault, kind: FailureKind, error: type[Exception]
) -> None:
    sim.bus.inject(fault, board=0)
    board = cu16(line, 0)
    result = board.unlock(4)
    assert result.released is None
    assert result.pulses == 1
    assert sim.bus.unlock_count(0, 4) == 1
    assert board.failures().last_kind is kind


# -- locker hw --------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "kind", "error"), KINDS, ids=IDS)
def test_hw_status_says_how_the_board_did_not_answer(
    sim: Served, fault: Fault, kind: FailureKind, error: type[Exception]
) -> None:
    sim.bus.inject(fault, board=0)
    done = hw("status", "--port", sim.url, "--board", "0", *FAST)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == f"error: board 0: no answer — {kind.text} (3 of 3 tries) on {sim.url}\n"


def test_hw_status_of_a_silent_bus_says_silence(sim: Served) -> None:
    sim.bus.inject(Fault.GONE)
    done = hw("status", "--port", sim.url, *FAST)
    assert done.returncode == 1
    assert done.stderr == (f"error: no cu16 board answered on {sim.url} — silence (3 of 3 tries)\n")


def test_hw_open_says_how_the_read_back_failed(sim: Served) -> None:
    sim.bus.inject(Fault.CORRUPT_BYTE, board=0)
    done = hw(
        "open", "--port", sim.url, "--board", "0", "--lock", "2", "--pulse-ms", str(PULSE_MS), *FAST
    )
    assert done.returncode == 1
    assert done.stdout.splitlines()[1] == "0 2 unknown 1"
    assert done.stderr == (
        "error: board 0: no answer to the read-back after the pulse — "
        f"bad checksum (3 of 3 tries) on {sim.url}\n"
    )
    assert sim.bus.unlock_count(0, 2) == 1


def test_hw_pulse_says_how_the_board_did_not_answer(make_sim: Callable[..., Served]) -> None:
    served = make_sim("cu16", (1,))
    served.bus.inject(Fault.TRUNCATED, board=1)
    done = hw("pulse", "--port", served.url, "--board", "1", *FAST)
    assert done.returncode == 1
    assert done.stderr == (
        f"error: board 1: no answer — torn frame (3 of 3 tries) on {served.url}\n"
    )


def test_tries_the_board_refused_still_count_among_the_tries() -> None:
    """A CU12 that answers ASK 0x14 (our request arrived damaged) refuses a try: that try
    is no failure kind, but the count of tries says it was made."""
    error = NoAnswer("no valid answer", [FailureKind.SILENCE], tries=3)
    assert error.describe() == "silence (1 of 3 tries)"
    assert describe([FailureKind.TORN_FRAME]) == "torn frame (1 of 1 try)"
