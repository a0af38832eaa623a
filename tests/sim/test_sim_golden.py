"""The golden frames of lock-protocol.md sections 1.7 and 2.3, against the simulator.

Each request must decode with the simulator's own codec, and a bus put in the state a row's
replies describe must answer exactly the golden bytes: in-process, with either hook polarity,
and over a real pty.
"""

from __future__ import annotations

from typing import Any

import pytest
import serial

from sim import codec, codec_cu12
from sim.server import SimBus, serve_pty
from tests.sim.sim_support import (
    LOCKS,
    FakeClock,
    Host,
    Row,
    golden_boards,
    golden_bus,
    golden_params,
)
from tests.sim.sim_support import hexbytes as hx

GOLDEN = golden_params()
CU16_REQUESTS = {
    "status": codec.Cmd.STATUS,
    "unlock": codec.Cmd.UNLOCK,
    "bus_status": codec.Cmd.BUS_STATUS,
    "unlock_all": codec.Cmd.UNLOCK_ALL,
    "query_pulse": codec.Cmd.PULSE,
    "set_pulse": codec.Cmd.PULSE,
    "delayed_unlock": codec.Cmd.DELAYED_UNLOCK,
    "set_baud": codec.Cmd.BAUD,
}
CU12_REQUESTS = {
    "status": codec_cu12.Cmd.STATUS,
    "bus_status": codec_cu12.Cmd.STATUS,
    "unlock": codec_cu12.Cmd.UNLOCK,
    "unlock_all": codec_cu12.Cmd.UNLOCK,
    "query_pulse": codec_cu12.Cmd.PULSE,
    "set_pulse": codec_cu12.Cmd.PULSE,
    "version": codec_cu12.Cmd.VERSION,
}


def _decode_request(protocol: str, row: Row) -> Any:
    data = hx(row["request"])
    decoder = codec.new_decoder() if protocol == "cu16" else codec_cu12.new_decoder()
    decoded = decoder.feed(data)
    assert [d.raw for d in decoded] == [data]
    assert decoder.buffered == 0
    return decoded[0].frame


@pytest.mark.parametrize(("protocol", "row"), GOLDEN)
def test_request_decodes_to_its_meaning(protocol: str, row: Row) -> None:
    frame = _decode_request(protocol, row)
    if protocol == "cu16":
        assert isinstance(frame, codec.Command)
        assert frame.cmd is CU16_REQUESTS[row["command"]]
        assert frame.board == row["address"]
        assert frame.is_set == (row["command"] == "set_pulse")
        if row["command"] == "unlock":
            assert frame.lock == row["lock"]
        if row["command"] == "set_pulse":
            assert frame.value * codec.PULSE_UNIT_MS == row["pulse_ms"]
        if row["command"] == "delayed_unlock":
            assert frame.value == row["delay_s"]
        if row["command"] == "set_baud":
            assert codec.BAUD_BY_CODE[frame.value] == row["baud"]
    else:
        assert isinstance(frame, codec_cu12.Frame)
        assert frame.cmd == CU12_REQUESTS[row["command"]]
        assert frame.addr == row["address"]
        assert frame.ask == codec_cu12.Ask.REQUEST
        if row["command"] == "unlock":
            assert frame.lock_number == row["lock"]
        if row["command"] == "unlock_all":
            assert frame.lock == codec_cu12.ALL_LOCKS
        if row["command"] == "set_pulse":
            value = int.from_bytes(frame.data, "big")
            assert value * codec_cu12.PULSE_UNIT_MS == row["pulse_ms"]
    assert frame.to_bytes() == hx(row["request"])


@pytest.mark.parametrize(("protocol", "row"), GOLDEN)
def test_golden_replies_decode_to_their_meaning(protocol: str, row: Row) -> None:
    """The sim's reply parsers agree with the decoded meaning typed into the file."""
    for index, text in enumerate(row["replies"]):
        data = hx(text)
        if protocol == "cu16":
            reply = codec.Reply.from_bytes(data)
            assert reply.board == row["reply_boards"][index]
            engaged = [n for n in range(1, 17) if reply.hooks >> (n - 1) & 1]
            assert engaged == row["hooks_engaged"][index]
            if "items" in row:
                assert [n for n in range(1, 17) if reply.items >> (n - 1) & 1] == row["items"][
                    index
                ]
            if reply.code is codec.ReplyCode.PULSE:
                assert int.from_bytes(reply.data[2:], "big") * 10 == row["pulse_ms"]
        else:
            frame = codec_cu12.Frame.from_bytes(data)
            assert frame.addr == row["reply_boards"][index]
            assert frame.ask == row["asks"][index]
            if frame.cmd == codec_cu12.Cmd.STATUS:
                bits = int.from_bytes(frame.data, "little")
                engaged = [n for n in range(1, 13) if bits >> (n - 1) & 1]
                assert engaged == row["hooks_engaged"][index]
            assert frame.to_bytes() == data


@pytest.mark.parametrize("polarity", ["engaged_high", "engaged_low"])
@pytest.mark.parametrize(("protocol", "row"), GOLDEN)
def test_sim_answers_golden_bytes(protocol: str, row: Row, polarity: str) -> None:
    """In golden state the bus answers the golden bytes; unlocks are pulsed, never answered.

    With ``engaged_low`` the wire shows the inverse of the truth, so the golden hooks are set up
    inverted: the bytes on the wire must come out the same.
    """
    clock = FakeClock()
    bus = golden_bus(protocol, row, clock=clock, hook_polarity="engaged_high")
    if polarity == "engaged_low":
        bus = _inverted_twin(protocol, row, bus, clock)
    frame = _decode_request(protocol, row)
    answers = bus.respond(frame, clock())
    assert [a.data.hex(" ") for a in answers] == [hx(r).hex(" ") for r in row["replies"]]
    assert [a.board for a in answers] == row.get("reply_boards", [])
    if row["command"] == "unlock":
        (board,) = golden_boards(row)
        assert bus.unlock_count(board, row["lock"]) == 1
        clock.advance(1.0)
        assert not bus.lock_state(board, row["lock"]).latched


def _inverted_twin(protocol: str, row: Row, model: SimBus, clock: FakeClock) -> SimBus:
    """A bus with engaged_low polarity whose locks are latched exactly where ``model``'s are not."""
    twin = golden_bus(protocol, row, clock=clock, hook_polarity="engaged_low")
    for board in twin.addresses:
        for lock in range(1, LOCKS[protocol] + 1):
            if model.lock_state(board, lock).latched:
                twin.release_latch(board, lock)
            else:
                twin.close_door(board, lock)
    return twin


@pytest.mark.parametrize(("protocol", "row"), GOLDEN)
def test_sim_answers_golden_bytes_on_a_pty(protocol: str, row: Row) -> None:
    bus = golden_bus(protocol, row, processing_s=0.001, pulse_ms=20)
    with serve_pty(bus) as path, serial.serial_for_url(path, timeout=2.0) as port:
        host = Host(port)
        host.send(row["request"])
        for expected in row["replies"]:
            want = hx(expected)
            got = host.read_cu12() if protocol == "cu12" else host.read(len(want))
            assert got.hex(" ") == want.hex(" ")
        assert host.quiet(0.05) == b""
    assert [raw for _, raw in bus.frames_received] == [hx(row["request"])]
