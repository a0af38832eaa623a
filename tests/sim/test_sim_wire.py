"""The simulator through a real pty and a real TCP socket, the host writing raw bytes by hand.

Every test runs on both transports (the ``connect`` fixture). Timing is checked only from
below: a reply may never come sooner than the modelled wire allows; no upper bounds.
"""

from __future__ import annotations

import time

import serial

from sim import codec_cu12
from sim.codec import Command, Reply, checksum
from sim.codec_cu12 import Ask, Frame
from sim.faults import Fault
from sim.server import SimBus, serve_pty, serve_tcp
from sim.timing import wire_time_s
from tests.sim.sim_support import Connect, Host

STATUS_0 = "02 00 30 03 35"
STATUS_1 = "02 10 30 03 45"
BUS_STATUS = "02 F0 32 03 27"
PULSE_S = 0.03
MARGIN_S = 0.1  # waiting longer than the pulse: a lower bound, so only ever generous


def status(host: Host, request: str = STATUS_0) -> Reply:
    host.send(request)
    return Reply.from_bytes(host.read(9))


def test_status_round_trip(connect: Connect) -> None:
    bus = SimBus(addresses=[0, 1], pulse_ms=20)
    bus.put_item(1, 12)
    host = connect(bus)
    host.send(STATUS_1)
    assert host.read(9) == bytes.fromhex("02 10 35 FF FF 00 08 03 50")
    assert [raw for _, raw in bus.frames_received] == [bytes.fromhex(STATUS_1)]


def test_unlock_is_silent_and_status_shows_released_after_the_pulse(connect: Connect) -> None:
    bus = SimBus(addresses=[2], pulse_ms=int(PULSE_S * 1000), boards={})
    host = connect(bus)
    host.send("02 2F 31 03 65")  # board 2, lock 16
    assert host.quiet(PULSE_S + MARGIN_S) == b""
    reply = status(host, "02 20 30 03 55")
    assert reply.hooks == 0x7FFF
    assert bus.lock_state(2, 16).door_open
    bus.close_door(2, 16)
    assert status(host, "02 20 30 03 55").hooks == 0xFFFF
    assert bus.unlock_count(2, 16) == 1


def test_status_during_a_long_pulse_still_reads_engaged(connect: Connect) -> None:
    bus = SimBus(addresses=[0], pulse_ms=20_000)
    host = connect(bus)
    host.send(Command.unlock(0, 1).to_bytes())
    assert status(host).hooks == 0xFFFF
    assert bus.lock_state(0, 1).pulsing


def test_broadcast_is_answered_by_every_board_in_address_order(connect: Connect) -> None:
    bus = SimBus(addresses=[7, 0, 3])
    bus.release_latch(3, 1)
    host = connect(bus)
    host.send(BUS_STATUS)
    replies = [Reply.from_bytes(host.read(9)) for _ in range(3)]
    assert [r.board for r in replies] == [0, 3, 7]
    assert [r.hooks for r in replies] == [0xFFFF, 0xFFFE, 0xFFFF]
    assert host.quiet(0.05) == b""


def test_garbage_and_bad_frames_are_dropped_then_the_line_resyncs(connect: Connect) -> None:
    bus = SimBus(addresses=[0])
    host = connect(bus)
    host.send("FF 00 02 00 30 03 36")  # noise, then a status with a wrong sum
    assert host.quiet(0.1) == b""
    host.send("02 00 30")  # a frame split over two writes
    time.sleep(0.02)
    host.send("03 35")
    assert len(host.read(9)) == 9
    assert bus.bad_frames == 1
    assert [raw for _, raw in bus.frames_received] == [bytes.fromhex(STATUS_0)]


# ---------------------------------------------------------------- faults, seen on the wire


def test_fault_no_answer(connect: Connect) -> None:
    bus = SimBus(addresses=[0])
    bus.inject(Fault.NO_ANSWER, board=0, count=1)
    host = connect(bus)
    host.send(STATUS_0)
    assert host.quiet(0.15) == b""
    assert len(status(host).to_bytes()) == 9


def test_fault_late_answer(connect: Connect) -> None:
    bus = SimBus(addresses=[0])
    bus.inject(Fault.LATE_ANSWER, board=0, delay_s=0.25, count=1)
    host = connect(bus)
    sent = host.send(STATUS_0)
    assert len(host.read(9)) == 9
    assert time.monotonic() - sent >= 0.25 + wire_time_s(5 + 9, bus.baud)


def test_fault_corrupt_byte(connect: Connect) -> None:
    bus = SimBus(addresses=[0])
    bus.inject(Fault.CORRUPT_BYTE, board=0, count=1)
    host = connect(bus)
    host.send(STATUS_0)
    data = host.read(9)
    assert len(data) == 9
    assert data[8] != checksum(data[:8])
    assert status(host).hooks == 0xFFFF


def test_fault_truncated(connect: Connect) -> None:
    bus = SimBus(addresses=[0])
    bus.inject(Fault.TRUNCATED, board=0, n=5, count=1)
    host = connect(bus)
    host.send(STATUS_0)
    assert host.quiet(0.15) == bytes.fromhex("02 00 35 FF FF")


def test_fault_stuck_latch(connect: Connect) -> None:
    bus = SimBus(addresses=[0], pulse_ms=int(PULSE_S * 1000))
    bus.inject(Fault.STUCK_LATCH, board=0, lock=4)
    host = connect(bus)
    host.send(Command.unlock(0, 4).to_bytes())
    time.sleep(PULSE_S + MARGIN_S)
    assert status(host).hooks == 0xFFFF
    assert bus.unlock_count(0, 4) == 1


def test_fault_lying_sensor(connect: Connect) -> None:
    bus = SimBus(addresses=[0])
    bus.inject(Fault.LYING_SENSOR, board=0, lock=2)
    host = connect(bus)
    assert status(host).hooks == 0xFFFD
    assert bus.lock_state(0, 2).latched


def test_fault_gone(connect: Connect) -> None:
    bus = SimBus(addresses=[0, 1], pulse_ms=10)
    bus.inject(Fault.GONE, board=1)
    host = connect(bus)
    host.send(BUS_STATUS)
    assert Reply.from_bytes(host.read(9)).board == 0
    assert host.quiet(0.1) == b""
    host.send(Command.unlock(1, 1).to_bytes())
    host.send(STATUS_1)
    assert host.quiet(0.1) == b""
    assert bus.unlock_count(1, 1) == 0
    bus.clear_faults(board=1)
    assert status(host, STATUS_1).board == 1


# ---------------------------------------------------------------- timing model


def test_reply_never_comes_sooner_than_the_wire_allows(connect: Connect) -> None:
    bus = SimBus(addresses=[0, 1], baud=2400, processing_s=0.01)
    host = connect(bus)
    sent = host.send(STATUS_0)
    assert len(host.read(9)) == 9
    assert time.monotonic() - sent >= wire_time_s(5 + 9, 2400) + 0.01
    ((received_at, raw),) = bus.frames_received
    assert raw == bytes.fromhex(STATUS_0)
    assert received_at >= sent + wire_time_s(5, 2400)

    sent = host.send(BUS_STATUS)
    assert len(host.read(18)) == 18
    assert time.monotonic() - sent >= wire_time_s(5 + 9 + 9, 2400) + 2 * 0.01


def test_back_to_back_requests_are_timed_one_after_another(connect: Connect) -> None:
    """Two frames in one write: the second's last byte lands a full frame after the first's."""
    bus = SimBus(addresses=[0], baud=2400, processing_s=0.0)
    host = connect(bus)
    host.send(bytes.fromhex("02 00 31 03 36" + "02 01 31 03 37"))
    time.sleep(0.1)
    (first, _), (second, _) = bus.frames_received
    assert second - first >= wire_time_s(5, 2400) - 1e-9


# ---------------------------------------------------------------- CU12


def test_cu12_bus(connect: Connect) -> None:
    bus = SimBus("cu12", addresses=[0, 1], pulse_ms=int(PULSE_S * 1000))
    host = connect(bus)
    host.send("02 10 00 80 00 00 03 95")
    answers = [Frame.from_bytes(host.read_cu12()) for _ in range(2)]
    assert [(a.addr, a.ask, a.data) for a in answers] == [
        (0, Ask.OK, b"\xff\x0f"),
        (1, Ask.OK, b"\xff\x0f"),
    ]
    host.send("02 00 02 81 00 00 03 88")
    assert host.read_cu12() == bytes.fromhex("02 00 02 81 10 00 03 98")
    time.sleep(PULSE_S + MARGIN_S)
    host.send("02 00 00 80 00 00 03 85")
    assert Frame.from_bytes(host.read_cu12()).data == b"\xfb\x0f"
    host.send("02 01 02 81 00 00 03 99")  # wrong SUM
    assert Frame.from_bytes(host.read_cu12()).ask == Ask.CHECKSUM_ERROR
    assert bus.unlock_count(1, 3) == 0
    host.send(Frame(0, 0, 0x86).to_bytes())
    assert Frame.from_bytes(host.read_cu12()).ask == Ask.UNKNOWN_COMMAND
    bus.inject(Fault.NO_ANSWER, board=1, lock=5)
    host.send(Frame.unlock(1, 5).to_bytes())
    assert host.quiet(0.1) == b""
    assert bus.unlock_count(1, 5) == 1
    assert bus.bad_frames == 1
    assert codec_cu12.Cmd.UNLOCK in {raw[3] for _, raw in bus.frames_received}


# ---------------------------------------------------------------- transports


def test_host_can_close_and_reopen_the_port(transport: str) -> None:
    """A pty keeps its slave open (no EIO on the master); TCP accepts the next client."""
    bus = SimBus(addresses=[0])
    server = serve_pty(bus) if transport == "pty" else serve_tcp(bus)
    with server as where:
        for _ in range(3):
            with serial.serial_for_url(where, timeout=2.0) as port:
                assert status(Host(port)).board == 0
    assert len(bus.frames_received) == 3


def test_tcp_serves_one_client_at_a_time() -> None:
    bus = SimBus(addresses=[0])
    with serve_tcp(bus) as url:
        first = serial.serial_for_url(url, timeout=2.0)
        second = serial.serial_for_url(url, timeout=2.0)
        try:
            waiting = Host(second)
            waiting.send(STATUS_0)
            assert waiting.quiet(0.2) == b""  # queued behind the first client
            assert status(Host(first)).board == 0
            first.close()
            assert Reply.from_bytes(waiting.read(9)).board == 0
        finally:
            first.close()
            second.close()
