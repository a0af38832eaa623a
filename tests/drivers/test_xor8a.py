"""The 8A/80 XOR board: the real driver over a real pty and over socket:// against sim/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from drivers import xor8a
from drivers.bus import LockBus
from drivers.counters import FailureKind
from drivers.errors import BadFrame, NoAnswer
from drivers.xor8a import Xor8aBoard
from sim import codec_xor8a
from sim.bus import BoardConfig, SimBus
from sim.faults import Fault
from tests.drivers.conftest import serve
from tests.drivers.support import MARGIN_S, PROCESSING_S, PULSE_MS, TIMEOUT_S

# lock-protocol.md §4, the worked examples
SPEC_FRAMES = {
    "unlock board 1 lock 1": ("8A 01 01 11 9B", lambda: xor8a.unlock_frame(1, 1)),
    "unlock all board 1": ("8A 01 00 11 9A", lambda: xor8a.frame(0x8A, 1, 0, 0x11)),
    "read board 1 lock 1": ("80 01 01 33 B3", lambda: xor8a.read_frame(1, 1)),
    "read all board 1": ("80 01 00 33 B2", lambda: xor8a.read_frame(1)),
}


@pytest.mark.parametrize("name", sorted(SPEC_FRAMES))
def test_the_spec_frames_byte_for_byte_from_the_driver_and_the_simulator(name: str) -> None:
    wire, build = SPEC_FRAMES[name]
    expected = bytes.fromhex(wire)
    assert build() == expected
    decoded = codec_xor8a.new_decoder().feed(expected)
    assert [d.frame.to_bytes() for d in decoded] == [expected]


def test_read_all_of_24_channels_sends_the_highest_group_first() -> None:
    answer = codec_xor8a.read_all_answer(1, 0x00_00_01 | 0x80_00_00, 24)
    assert answer[:5] == bytes([0x80, 0x01, 0x80, 0x00, 0x01])
    assert xor8a.decode_bitmap(answer) == 0x800001


@pytest.fixture
def make_board(transport: str) -> Iterator[Callable[..., tuple[SimBus, Xor8aBoard]]]:
    with ExitStack() as stack:

        def make(
            channels: int = 24, polarity: str = "engaged_high", **options: Any
        ) -> tuple[SimBus, Xor8aBoard]:
            bus = SimBus(
                protocol="xor8a",
                addresses=[1, 31],
                baud=9600,
                pulse_ms=PULSE_MS,
                processing_s=PROCESSING_S,
                hook_polarity=polarity,  # type: ignore[arg-type]
                ir_sensors=False,
                boards={1: BoardConfig(locks=channels), 31: BoardConfig(locks=8)},
            )
            line = LockBus(serve(stack, bus, transport), baudrate=9600, timeout_s=TIMEOUT_S)
            stack.callback(line.close)
            board = Xor8aBoard(
                line,
                1,
                channels=channels,
                pulse_ms=PULSE_MS,
                hook_polarity=polarity,
                release_margin_s=MARGIN_S,
                **options,
            )
            return bus, board

        yield make


@pytest.mark.parametrize("channels", [8, 12, 24, 50])
@pytest.mark.parametrize("polarity", ["engaged_high", "engaged_low"])
def test_unlock_is_answered_opened_and_the_read_back_sees_it(
    make_board: Callable[..., tuple[SimBus, Xor8aBoard]], channels: int, polarity: str
) -> None:
    sim, board = make_board(channels, polarity)
    assert all(s.hook_engaged for s in board.status().locks)
    assert len(board.status().locks) == channels
    result = board.unlock(channels)
    assert result.released is True
    assert result.pulses == 1
    assert board.last_unlock_answer is True
    assert sim.lock_state(1, channels).door_open
    assert board.read_lock(channels) is False  # read one lock: released
    assert board.read_lock(1) is True
    states = board.status().locks
    assert [not s.hook_engaged for s in states] == [n == channels for n in range(1, channels + 1)]


def test_a_stuck_lock_is_answered_failed_and_pulsed_once_more_after_a_fresh_read(
    make_board: Callable[..., tuple[SimBus, Xor8aBoard]],
) -> None:
    sim, board = make_board()
    sim.inject(Fault.STUCK_LATCH, board=1, lock=5)
    result = board.unlock(5)
    assert result.released is False
    assert result.pulses == 2
    assert board.last_unlock_answer is False
    assert sim.unlock_count(1, 5) == 2


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault.GONE, FailureKind.SILENCE),
        (Fault.NO_ANSWER, FailureKind.SILENCE),
        (Fault.TRUNCATED, FailureKind.TORN_FRAME),
        (Fault.CORRUPT_BYTE, FailureKind.BAD_CHECKSUM),
    ],
)
def test_every_failed_read_is_told_apart_retried_and_never_acted_on(
    make_board: Callable[..., tuple[SimBus, Xor8aBoard]], fault: Fault, kind: FailureKind
) -> None:
    sim, board = make_board()
    sim.inject(fault, board=1)
    with pytest.raises((NoAnswer, BadFrame)) as caught:
        board.status()
    assert set(caught.value.attempts) == {kind}
    assert caught.value.tries == board.bus.retries + 1
    assert board.failures().last_kind is kind
    sim.clear_faults()
    assert board.status().address == 1  # and it answers again


def test_a_slow_board_is_waited_for_within_the_deadline_and_retried_beyond_it(
    make_board: Callable[..., tuple[SimBus, Xor8aBoard]],
) -> None:
    sim, board = make_board()
    sim.inject(Fault.LATE_ANSWER, board=1, delay_s=TIMEOUT_S / 3, count=1)
    assert board.status().address == 1
    sim.inject(Fault.LATE_ANSWER, board=1, delay_s=TIMEOUT_S * 3, count=1)
    assert board.status().address == 1  # the late answer is dropped, the retry answered
    assert board.bus.counters().retries >= 1


def test_a_lost_unlock_answer_is_never_resent_blindly(
    make_board: Callable[..., tuple[SimBus, Xor8aBoard]],
) -> None:
    sim, board = make_board()
    sim.inject(Fault.NO_ANSWER, board=1, count=1)  # the unlock's answer is lost
    result = board.unlock(3)
    assert result.released is True  # the read-back saw it open
    assert result.pulses == 1
    assert sim.unlock_count(1, 3) == 1


def test_bad_frames_on_the_line_are_counted_and_dropped_by_the_simulator() -> None:
    decoder = codec_xor8a.new_decoder()
    good = xor8a.unlock_frame(2, 4)
    frames = decoder.feed(b"\x8a\x01\x01\x11\x00" + b"\x13\x37" + good)
    assert [f.frame.to_bytes() for f in frames] == [good]
    assert decoder.bad_frames == 1


def test_addresses_and_channels_are_checked() -> None:
    line = LockBus("socket://127.0.0.1:1", timeout_s=TIMEOUT_S)
    with pytest.raises(ValueError, match="address"):
        Xor8aBoard(line, 0)
    with pytest.raises(ValueError, match="channels"):
        Xor8aBoard(line, 1, channels=51)
    assert Xor8aBoard(line, 31, channels=50).lock_count == 50
