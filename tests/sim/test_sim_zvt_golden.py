"""The simulator's own codec (not the client's) against the frames typed in from zvt.md:
it reads each station command and builds each terminal message byte for byte."""

from __future__ import annotations

from typing import Any

import pytest

from sim.zvt.codec import bcd, pack, read_fields, unbcd, unpack
from tests.zvt_support import golden, hexb

COMMANDS = {
    "authorisation": (0x06, 0x01),
    "registration": (0x06, 0x00),
    "reversal": (0x06, 0x30),
    "end_of_day": (0x06, 0x50),
    "status_enquiry": (0x05, 0x01),
    "ack": (0x80, 0x00),
    "abort": (0x06, 0xB0),
}


@pytest.mark.parametrize("row", golden("station"))
def test_the_simulator_reads_each_station_command(row: dict[str, Any]) -> None:
    frame = unpack(hexb(row["frame"]))
    assert (frame.cls, frame.ins) == COMMANDS[row["command"]]
    data = frame.payload
    if "password" in row:
        assert data[:3].hex() == row["password"]
    if row["command"] == "authorisation":
        assert unbcd(read_fields(data)[0x04]) == row["amount_cents"]
    elif row["command"] == "registration":
        assert data[3] == row["config"]
        assert read_fields(data[4:]) == {0x49: hexb("09 78")}
    elif row["command"] == "reversal":
        assert f"{unbcd(read_fields(data[3:])[0x87]):04d}" == row["receipt"]
    elif row["command"] in ("ack", "abort"):
        assert data == b""
    assert frame.raw == hexb(row["frame"])


def _built(row: dict[str, Any]) -> bytes:
    kind = row["kind"]
    if kind == "ack":
        return pack(0x80, 0x00)
    if kind == "nack":
        return pack(0x84, row["code"])
    if kind == "intermediate":
        return pack(0x04, 0xFF, bytes([row["status"], 60]))
    if kind == "status":
        data = b"\x27" + bytes([row["result"]])
        if "amount_cents" in row:
            data += b"\x04" + bcd(row["amount_cents"], 6) + b"\x0b" + bcd(int(row["trace"]), 3)
            data += b"\x87" + bcd(int(row["receipt"]), 2) + b"\x8a" + bytes([row["card_type"]])
        return pack(0x04, 0x0F, data)
    if kind == "print_line":
        return pack(0x06, 0xD1, b"\x00" + row["text"].encode())
    if kind == "completion":
        return pack(0x06, 0x0F)
    assert kind == "abort"
    return pack(0x06, 0x1E, bytes([row["code"]]))


@pytest.mark.parametrize("row", golden("terminal"))
def test_the_simulator_builds_each_terminal_message(row: dict[str, Any]) -> None:
    assert _built(row) == hexb(row["frame"])


def test_the_simulator_writes_long_frames_in_the_long_form() -> None:
    raw = pack(0x06, 0xD3, bytes(300))
    assert raw[:5] == hexb("06 D3 FF 2C 01")
    assert unpack(raw).payload == bytes(300)
