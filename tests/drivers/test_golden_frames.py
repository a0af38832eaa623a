"""The driver's codecs against the frames typed in from the spec (tests/data/kerong_frames.toml)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from drivers.errors import BoardRefused
from drivers.framing import StreamDecoder
from drivers.kerong_cu12 import ANSWER_RULE, CMD_STATUS, Cu12Frame
from drivers.kerong_cu16 import REPLY_RULE, RPL_BAUD, RPL_PULSE, Cu16Reply, Cu16Request
from tests.drivers.golden import bit_numbers, golden_params, hex_bytes


def cu16_request(row: dict[str, Any]) -> Cu16Request:
    board = row["address"]
    build: dict[str, Callable[[], Cu16Request]] = {
        "status": lambda: Cu16Request.status(board),
        "unlock": lambda: Cu16Request.unlock(board, row["lock"]),
        "bus_status": Cu16Request.bus_status,
        "unlock_all": lambda: Cu16Request.unlock_all(board),
        "query_pulse": lambda: Cu16Request.query_pulse(board),
        "set_pulse": lambda: Cu16Request.set_pulse(board, row["pulse_ms"]),
        "delayed_unlock": lambda: Cu16Request.delayed_unlock(board, row["delay_s"]),
        "set_baud": lambda: Cu16Request.set_baud(board, row["baud"]),
    }
    return build[row["command"]]()


def cu12_request(row: dict[str, Any]) -> Cu12Frame:
    board = row["address"]
    build: dict[str, Callable[[], Cu12Frame]] = {
        "status": lambda: Cu12Frame.status(board),
        "bus_status": Cu12Frame.bus_status,
        "unlock": lambda: Cu12Frame.unlock(board, row["lock"]),
        "unlock_all": lambda: Cu12Frame.unlock_all(board),
        "query_pulse": lambda: Cu12Frame.query_pulse(board),
        "set_pulse": lambda: Cu12Frame.set_pulse(board, row["pulse_ms"]),
        "version": lambda: Cu12Frame.version(board),
    }
    return build[row["command"]]()


@pytest.mark.parametrize("row", golden_params("cu16"))
def test_cu16_request_encodes_to_golden_bytes(row: dict[str, Any]) -> None:
    request = cu16_request(row)
    assert request.to_bytes() == hex_bytes(row["request"])
    assert Cu16Request.from_bytes(hex_bytes(row["request"])) == request


@pytest.mark.parametrize("row", golden_params("cu16"))
def test_cu16_replies_decode_to_golden_values(row: dict[str, Any]) -> None:
    for i, text in enumerate(row["replies"]):
        raw = hex_bytes(text)
        reply = Cu16Reply.from_bytes(raw)
        assert reply.to_bytes() == raw
        assert reply.board == row["reply_boards"][i]
        if "hooks_engaged" in row:
            assert bit_numbers(reply.hooks, 16) == row["hooks_engaged"][i]
        if "items" in row:
            assert bit_numbers(reply.items, 16) == row["items"][i]
        if reply.code == RPL_PULSE:
            assert reply.pulse_ms == row["pulse_ms"]
        if reply.code == RPL_BAUD:
            assert reply.baud == row["baud"]


@pytest.mark.parametrize("row", golden_params("cu16"))
def test_cu16_reply_stream_yields_every_golden_reply(row: dict[str, Any]) -> None:
    replies = [hex_bytes(text) for text in row["replies"]]
    decoder = StreamDecoder(REPLY_RULE)
    assert decoder.feed(b"".join(replies)) == replies
    assert decoder.stats.dropped_bytes == 0


@pytest.mark.parametrize("row", golden_params("cu12"))
def test_cu12_request_encodes_to_golden_bytes(row: dict[str, Any]) -> None:
    request = cu12_request(row)
    assert request.to_bytes() == hex_bytes(row["request"])
    assert Cu12Frame.from_bytes(hex_bytes(row["request"])) == request


@pytest.mark.parametrize("row", golden_params("cu12"))
def test_cu12_answers_decode_to_golden_values(row: dict[str, Any]) -> None:
    answers = [hex_bytes(text) for text in row["replies"]]
    decoder = StreamDecoder(ANSWER_RULE)
    assert decoder.feed(b"".join(answers)) == answers
    for i, raw in enumerate(answers):
        answer = Cu12Frame.from_bytes(raw)
        assert answer.to_bytes() == raw
        assert answer.address == row["reply_boards"][i]
        assert answer.ask == row["asks"][i]
        answer.check_ask()
        if "hooks_engaged" in row:
            assert answer.command == CMD_STATUS
            assert bit_numbers(answer.hooks, 12) == row["hooks_engaged"][i]
        if row["command"] == "query_pulse":
            assert answer.pulse_ms == row["pulse_ms"]
        if row["command"] == "version":
            assert answer.data == bytes([0x10, 0x12])


@pytest.mark.parametrize(
    ("ask", "retriable"), [(0x11, False), (0x12, False), (0x13, False), (0x14, True)]
)
def test_cu12_answer_with_a_failure_code_is_a_refusal(ask: int, retriable: bool) -> None:
    answer = Cu12Frame(0, 2, 0x81, ask)
    decoded = Cu12Frame.from_bytes(answer.to_bytes())
    with pytest.raises(BoardRefused) as caught:
        decoded.check_ask()
    assert caught.value.code == ask
    assert caught.value.retriable is retriable


def test_cu16_addresses_pack_board_and_lock() -> None:
    assert Cu16Request.unlock(2, 16).address == 0x2F
    assert Cu16Request.unlock(9, 1).address == 0x90
    # replies are matched on the high nibble only (lock-protocol.md §1.10)
    assert Cu16Reply(0x13, 0x35, bytes(4)).board == 1


@pytest.mark.parametrize(
    "build",
    [
        lambda: Cu16Request.unlock(0, 0),
        lambda: Cu16Request.unlock(0, 17),
        lambda: Cu16Request.set_pulse(0, 60_010),
        lambda: Cu16Request.set_baud(0, 4800),
        lambda: Cu12Frame.unlock(0, 13),
        lambda: Cu12Frame.set_pulse(0, -10),
    ],
)
def test_codec_refuses_values_the_spec_does_not_allow(build: Any) -> None:
    with pytest.raises(ValueError, match=r"."):
        build()


@pytest.mark.parametrize("ms", [7680, 8000, 10230])
def test_pulse_times_whose_frame_could_pass_for_an_unlock_are_refused(ms: int) -> None:
    """With 0x03 as the time's high byte, one corrupted byte makes a valid unlock frame."""
    with pytest.raises(ValueError, match="cannot be sent safely"):
        Cu16Request.set_pulse(0, ms)
    assert Cu16Request.set_pulse(0, 7670).to_bytes()[3] == 0x02
    assert Cu16Request.set_pulse(0, 10240).to_bytes()[3] == 0x04
