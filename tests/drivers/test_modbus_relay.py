"""Modbus RTU relay boards and the XY-MD02: the real driver (pymodbus) over a real pty and
over socket:// against the simulator's own Modbus code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from drivers import modbus_rtu
from drivers.board import ENGAGED_LOW
from drivers.bus import LockBus
from drivers.counters import FailureKind
from drivers.errors import BadFrame, BoardRefused, NoAnswer
from drivers.modbus_relay import InputBoard, Relay8Board, Relay16Board
from drivers.xy_md02 import XyMd02
from sim import codec_modbus
from sim.faults import Fault
from sim.modbus_bus import ModbusSimBus
from tests.drivers.conftest import serve
from tests.drivers.support import PROCESSING_S, TIMEOUT_S

PULSE_MS = 100  # one flash step
MARGIN_S = 0.05

# modbus-relay.md §3, the worked frames: (wire bytes, the driver's encoder, device, function)
WORKED = {
    "flash relay 3 for 700 ms": (
        "01 05 02 03 00 07 7D B0",
        lambda: modbus_rtu.flash_on(1, 0x203, 7),
    ),
    "read 8 inputs": ("01 02 00 00 00 08 79 CC", lambda: modbus_rtu.read_inputs(1, 0, 8)),
    "all relays off": ("01 05 00 FF 00 00 FD FA", lambda: modbus_rtu.write_coil(1, 0xFF, False)),
    "relay 0 on": ("01 05 00 00 FF 00 8C 3A", lambda: modbus_rtu.write_coil(1, 0, True)),
}


@pytest.mark.parametrize("name", sorted(WORKED))
def test_the_driver_encodes_the_worked_frames_byte_for_byte(name: str) -> None:
    wire, encode = WORKED[name]
    assert encode() == bytes.fromhex(wire)


@pytest.mark.parametrize("name", sorted(WORKED))
def test_the_simulator_decodes_the_worked_frames_byte_for_byte(name: str) -> None:
    wire, _encode = WORKED[name]
    raw = bytes.fromhex(wire)
    decoded = codec_modbus.new_decoder().feed(raw)
    assert len(decoded) == 1
    request = decoded[0].frame
    assert (request.device, request.function, request.data) == (raw[0], raw[1], raw[2:-2])
    assert request.to_bytes() == raw
    assert codec_modbus.crc16(raw[:-2]).to_bytes(2, "little") == raw[-2:]


def test_a_frame_with_a_bad_crc_is_counted_and_a_good_one_inside_it_is_found() -> None:
    decoder = codec_modbus.new_decoder()
    good = bytes.fromhex("01 02 00 00 00 08 79 CC")
    decoded = decoder.feed(bytes.fromhex("01 05 00 FF 00 00 FD FB") + good)
    assert [d.raw for d in decoded] == [good]
    assert decoder.bad_frames >= 1


@pytest.fixture
def rig(transport: str) -> Iterator[Callable[..., tuple[ModbusSimBus, LockBus]]]:
    with ExitStack() as stack:

        def make(**options: Any) -> tuple[ModbusSimBus, LockBus]:
            options.setdefault("boards", {1: (8, 8), 2: (16, 0), 3: (0, 8)})
            options.setdefault("sensors", {10: 4.0})
            sim = ModbusSimBus(
                options.pop("boards"), processing_s=PROCESSING_S, pulse_ms=PULSE_MS, **options
            )
            line = LockBus(serve(stack, sim, transport), baudrate=9600, timeout_s=TIMEOUT_S)
            stack.callback(line.close)
            return sim, line

        yield make


def relay8(line: LockBus, **options: Any) -> Relay8Board:
    return Relay8Board(line, 1, pulse_ms=PULSE_MS, release_margin_s=MARGIN_S, **options)


def test_a_flash_opens_the_lock_timed_by_the_board_and_the_input_tells(
    rig: Callable[..., tuple[ModbusSimBus, LockBus]],
) -> None:
    sim, line = rig()
    board = relay8(line)
    board.start()
    assert sim.frames_received[-1][1] == bytes.fromhex("01 05 00 FF 00 00 FD FA")
    result = board.unlock(4)
    assert (result.released, result.pulses) == (True, 1)
    flash = [raw for _t, raw in sim.frames_received if raw[1] == 5 and raw[2] == 0x02]
    assert flash == [modbus_rtu.flash_on(1, 0x203, 1)]  # relay 4 → 0x0203, 100 ms
    assert sim.relays_on(1) == 0  # the board switched the relay off by itself
    assert board.read_relay_bits() == 0
    assert not board.status().lock(4).hook_engaged
    sim.close_door(1, 4)
    assert board.status().lock(4).hook_engaged


def test_a_sixteen_relay_board_reads_its_doors_on_an_input_board(
    rig: Callable[..., tuple[ModbusSimBus, LockBus]],
) -> None:
    sim, line = rig(wiring={(3, 1): (2, 9)})
    inputs = InputBoard(line, 3)
    board = Relay16Board(line, 2, pulse_ms=PULSE_MS, release_margin_s=MARGIN_S)
    board.wire_door(9, inputs, 1)
    assert board.status().lock(9).hook_engaged
    assert board.unlock(9).released is True
    assert inputs.read_input_bits() & 1 == 0
    with pytest.raises(ValueError, match="no door input"):
        board.unlock(10)


def test_input_polarity_is_a_setting_of_the_board_with_the_input(
    rig: Callable[..., tuple[ModbusSimBus, LockBus]],
) -> None:
    _sim, line = rig(boards={1: (8, 8)}, engaged_low=[1])
    assert not any(s.hook_engaged for s in relay8(line).status().locks)
    assert all(s.hook_engaged for s in relay8(line, hook_polarity=ENGAGED_LOW).status().locks)


def test_a_stuck_lock_reads_engaged_and_gets_one_more_flash_after_a_fresh_read(
    rig: Callable[..., tuple[ModbusSimBus, LockBus]],
) -> None:
    sim, line = rig()
    sim.inject(Fault.STUCK_LATCH, board=1, lock=2)
    result = relay8(line).unlock(2)
    assert (result.released, result.pulses) == (False, 2)
    assert sim.unlock_count(1, 2) == 2


def test_a_lost_flash_answer_is_never_resent_blindly(
    rig: Callable[..., tuple[ModbusSimBus, LockBus]],
) -> None:
    sim, line = rig()
    sim.inject(Fault.NO_ANSWER, board=1, count=1)
    result = relay8(line).unlock(6)
    assert (result.released, result.pulses) == (True, 1)  # read the input: it opened
    assert sim.unlock_count(1, 6) == 1


def test_an_exception_answer_is_a_refusal_and_nothing_is_pulsed(
    rig: Callable[..., tuple[ModbusSimBus, LockBus]],
) -> None:
    sim, line = rig()
    board = relay8(line)
    board.start()
    sim.inject(Fault.EXCEPTION, board=1, n=codec_modbus.DEVICE_FAILURE, count=1)
    with pytest.raises(BoardRefused, match="device failure"):
        board.unlock(1)
    assert sim.unlock_count(1, 1) == 0
    with pytest.raises(BoardRefused, match="illegal data address"):
        modbus_rtu.ask(
            line, modbus_rtu.read_inputs(1, 0, 16), 1, modbus_rtu.ReadDiscreteInputsRequest
        )
    with pytest.raises(BoardRefused, match="illegal function"):
        XyMd02(line, 1).read_registers()  # a relay board has no input registers


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
    rig: Callable[..., tuple[ModbusSimBus, LockBus]], fault: Fault, kind: FailureKind
) -> None:
    sim, line = rig()
    board = relay8(line)
    sim.inject(fault, board=1)
    with pytest.raises((NoAnswer, BadFrame)) as caught:
        board.status()
    assert set(caught.value.attempts) == {kind}
    assert board.failures().last_kind is kind
    sim.clear_faults()
    sim.inject(Fault.LATE_ANSWER, board=1, delay_s=TIMEOUT_S * 3, count=1)
    assert board.status().address == 1  # a slow answer is dropped, the retry is taken


def test_the_sensor_reads_signed_tenths_drifts_and_falls_silent(
    rig: Callable[..., tuple[ModbusSimBus, LockBus]],
) -> None:
    sim, line = rig()
    sensor = XyMd02(line, 10, "fridge")
    assert sensor.read_celsius() == 4.0
    sim.set_temperature(10, -18.6)
    assert sensor.read_celsius() == -18.6
    assert sensor.read_registers() == (-18.6, 55.0)
    sim.set_temperature(10, 4.0, drift_per_min=60_000.0)  # 1000 °C/s: visibly warmer at once
    assert (sensor.read_celsius() or 0.0) > 4.0
    sim.inject(Fault.GONE, board=10)
    assert sensor.read_celsius() is None
    sim.clear_faults(board=10)
    sim.inject(Fault.CORRUPT_BYTE, board=10, count=1)
    assert sensor.read_celsius() is not None  # the read is retried
