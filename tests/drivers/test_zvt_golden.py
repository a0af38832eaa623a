"""The client's own encoder and decoder against the frames typed in from zvt.md."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.zvt import ZvtTerminal, bitmaps, sequence
from drivers.zvt.apdu import ACK, Apdu, decode
from tests.zvt_support import PASSWORD, golden, hexb


def _command(row: dict[str, Any]) -> Apdu:
    t = ZvtTerminal(
        "127.0.0.1", password=row.get("password", PASSWORD), config=row.get("config", 0xBE)
    )
    command = row["command"]
    if command == "authorisation":
        return t.authorisation(row["amount_cents"])
    if command == "registration":
        return t.registration()
    if command == "reversal":
        return t.reversal(row["receipt"])
    if command == "end_of_day":
        return t.end_of_day_command()
    if command == "status_enquiry":
        return t.status_enquiry()
    if command == "ack":
        return ACK
    assert command == "abort"
    return sequence.STATION_ABORT


@pytest.mark.parametrize("row", golden("station"))
def test_the_client_encodes_each_command_byte_for_byte(row: dict[str, Any]) -> None:
    assert _command(row).encode() == hexb(row["frame"])


@pytest.mark.parametrize("row", golden("terminal"))
def test_the_client_decodes_each_terminal_message(row: dict[str, Any]) -> None:
    apdu = decode(hexb(row["frame"]))
    kind = row["kind"]
    expected = {
        "ack": (0x80, 0x00),
        "intermediate": sequence.INTERMEDIATE,
        "status": sequence.STATUS,
        "print_line": sequence.PRINT_LINE,
        "completion": sequence.COMPLETION,
        "abort": sequence.ABORT,
    }
    if kind == "nack":
        assert (apdu.cls, apdu.instr, apdu.data) == (0x84, row["code"], b"")
        return
    assert apdu.command == expected[kind]
    if kind == "intermediate":
        assert apdu.data[0] == row["status"]
        assert sequence.intermediate_text(apdu.data) == "Insert card"
    elif kind == "status":
        fields = bitmaps.parse(apdu.data)
        assert fields.byte(bitmaps.RESULT) == row["result"]
        assert fields.unknown is None
        assert fields.skipped == []
        if "amount_cents" in row:
            assert fields.bcd(bitmaps.AMOUNT) == row["amount_cents"]
            assert fields.digits(bitmaps.TRACE) == row["trace"]
            assert fields.digits(bitmaps.RECEIPT) == row["receipt"]
            assert fields.byte(bitmaps.CARD_TYPE) == row["card_type"]
    elif kind == "print_line":
        assert apdu.data[1:].decode() == row["text"]
    elif kind == "abort":
        assert apdu.data == bytes([row["code"]])
    else:
        assert apdu.data == b""
    assert apdu.encode() == hexb(row["frame"])  # and back, byte for byte


def test_a_long_apdu_takes_the_long_length_form() -> None:
    block = Apdu(0x06, 0xD3, bytes(300))
    assert block.encode()[:5] == hexb("06 D3 FF 2C 01")
    assert decode(block.encode()) == block
    assert Apdu(0x06, 0xD3, bytes(254)).encode()[:3] == hexb("06 D3 FE")
    assert Apdu(0x06, 0xD3, bytes(255)).encode()[:5] == hexb("06 D3 FF FF 00")
