"""Modbus RTU frames, seen from the devices' side (modbus-relay.md §2-3, §6).

Written from the spec alone, not shared with ``drivers/`` (the driver uses pymodbus):
the CRC here is the bitwise CRC-16/MODBUS (reflected polynomial 0xA001, start 0xFFFF,
low byte first on the wire), the frames are plain bytes.

Stream decoding (:func:`scan`), host -> devices: a request is ``ADDR FC DATA CRC``; its
length comes from the function code (8 bytes for FC01-FC06, 9 + byte count for FC0F and
FC10). A candidate whose CRC fails is a bad frame: only its first byte is dropped (a good
frame may start inside it), nothing is done, nothing answered. A frame with an unknown
function code is taken if 8 bytes of it carry a good CRC (its device answers exception 1),
else its first byte is dropped as garbage.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.stream import Scan, StreamDecoder

FIXED_LENGTH = {1: 8, 2: 8, 3: 8, 4: 8, 5: 8, 6: 8}
COUNTED = {15, 16}  # ADDR FC ADDR_HI ADDR_LO N_HI N_LO BYTES DATA... CRC
GUESS_LENGTH = 8
ILLEGAL_FUNCTION = 1
ILLEGAL_ADDRESS = 2
ILLEGAL_VALUE = 3
DEVICE_FAILURE = 4
DEVICE_BUSY = 6


def crc16(data: bytes) -> int:
    """CRC-16/MODBUS of ``data``, bit by bit."""
    crc = 0xFFFF
    for value in data:
        crc ^= value
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def seal(body: bytes) -> bytes:
    """``body`` and its CRC, low byte first."""
    return body + crc16(body).to_bytes(2, "little")


def crc_ok(frame: bytes) -> bool:
    return len(frame) >= 4 and crc16(frame[:-2]) == int.from_bytes(frame[-2:], "little")


@dataclass(frozen=True)
class Request:
    """One host request: device address, function code, the data between them and CRC."""

    device: int
    function: int
    data: bytes

    def word(self, index: int) -> int:
        """The 16-bit big-endian word at word ``index`` of the data."""
        return int.from_bytes(self.data[2 * index : 2 * index + 2], "big")

    def to_bytes(self) -> bytes:
        return seal(bytes([self.device, self.function]) + self.data)


def bits_answer(device: int, function: int, bits: list[bool]) -> bytes:
    """FC01/FC02 answer: byte count, then the bits, bit 0 of the first byte first."""
    packed = bytearray((len(bits) + 7) // 8)
    for i, on in enumerate(bits):
        if on:
            packed[i // 8] |= 1 << (i % 8)
    return seal(bytes([device, function, len(packed)]) + bytes(packed))


def registers_answer(device: int, function: int, values: list[int]) -> bytes:
    """FC03/FC04 answer: byte count, then each register big-endian (negatives as 16 bits)."""
    body = b"".join((v & 0xFFFF).to_bytes(2, "big") for v in values)
    return seal(bytes([device, function, len(body)]) + body)


def exception_answer(device: int, function: int, code: int) -> bytes:
    """``ADDR FC|0x80 CODE CRC``."""
    return seal(bytes([device, function | 0x80, code]))


def scan(buf: bytes) -> Scan[Request]:
    """Look at the start of ``buf`` (see :mod:`sim.stream`)."""
    if len(buf) < 2:
        return Scan(0, None, False)
    function = buf[1]
    if function in FIXED_LENGTH:
        length: int = FIXED_LENGTH[function]
    elif function in COUNTED:
        if len(buf) < 7:
            return Scan(0, None, False)
        length = 9 + buf[6]
    else:
        if len(buf) < GUESS_LENGTH:
            return Scan(0, None, False)
        frame = bytes(buf[:GUESS_LENGTH])
        if crc_ok(frame):
            return Scan(GUESS_LENGTH, Request(frame[0], function, frame[2:-2]), False)
        return Scan(1, None, False)
    if len(buf) < length:
        return Scan(0, None, False)
    frame = bytes(buf[:length])
    if not crc_ok(frame):
        return Scan(1, None, True)
    return Scan(length, Request(frame[0], function, frame[2:-2]), False)


def new_decoder() -> StreamDecoder[Request]:
    """A buffered decoder for a stream of host requests."""
    return StreamDecoder(scan)
