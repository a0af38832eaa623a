"""The terminal side's own bytes (shares nothing with ``drivers/zvt``: a golden test reads
the frames of zvt.md against each side separately, so one side's bug cannot hide in both).

A frame is ``CLASS INSTR LEN DATA``; LEN ``FF`` announces two length bytes, low first.
Numbers are packed BCD; the lengths of LLVAR/LLLVAR fields are ``Fx`` digits.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


class FrameError(ValueError):
    """Bytes the terminal cannot take as a frame."""


@dataclass(frozen=True)
class Frame:
    cls: int
    ins: int
    payload: bytes = b""

    @property
    def key(self) -> str:
        """``"06 01"``: the command's two bytes as text."""
        return f"{self.cls:02X} {self.ins:02X}"

    @property
    def raw(self) -> bytes:
        return pack(self.cls, self.ins, self.payload)


def pack(cls: int, ins: int, payload: bytes = b"") -> bytes:
    """A frame's bytes; the length in one byte below 255, else ``FF`` and two bytes."""
    n = len(payload)
    if n >= 0x10000:
        raise FrameError("a frame holds at most 65535 bytes")
    size = struct.pack("B", n) if n <= 0xFE else b"\xff" + struct.pack("<H", n)
    return struct.pack("BB", cls, ins) + size + payload


def unpack(raw: bytes) -> Frame:
    """Exactly one frame from ``raw``, or :class:`FrameError`."""
    buffer = FrameBuffer()
    frames = buffer.push(raw)
    if len(frames) != 1 or buffer.waiting:
        raise FrameError(f"not exactly one frame: {raw.hex(' ')}")
    return frames[0]


class FrameBuffer:
    """Collects a byte stream and hands out its whole frames."""

    def __init__(self) -> None:
        self._data = b""

    @property
    def waiting(self) -> int:
        return len(self._data)

    def push(self, chunk: bytes) -> list[Frame]:
        self._data += chunk
        out: list[Frame] = []
        while len(self._data) >= 3:
            cls, ins, first = struct.unpack_from("BBB", self._data)
            head = 3
            size = first
            if first == 0xFF:
                if len(self._data) < 5:
                    break
                (size,) = struct.unpack_from("<H", self._data, 3)
                head = 5
            if len(self._data) < head + size:
                break
            out.append(Frame(cls, ins, self._data[head : head + size]))
            self._data = self._data[head + size :]
        return out


def bcd(number: int, width: int) -> bytes:
    """``number`` in ``width`` bytes of packed BCD."""
    text = f"{number:0{width * 2}d}"
    if number < 0 or len(text) != width * 2:
        raise FrameError(f"{number} does not fit {width} BCD bytes")
    return bytes.fromhex(text)


def unbcd(data: bytes) -> int:
    text = data.hex()
    if not text.isdigit():
        raise FrameError(f"not BCD: {data.hex(' ')}")
    return int(text) if text else 0


def llvar(tag: int, value: bytes) -> bytes:
    """A bitmap of 2-digit variable length (``F1 F5`` for 15 bytes)."""
    return _var(tag, value, 2)


def lllvar(tag: int, value: bytes) -> bytes:
    """A bitmap of 3-digit variable length."""
    return _var(tag, value, 3)


def _var(tag: int, value: bytes, places: int) -> bytes:
    digits = f"{len(value):0{places}d}"
    if len(digits) != places:
        raise FrameError(f"{len(value)} bytes do not fit {places} length digits")
    return bytes([tag]) + bytes(0xF0 + int(c) for c in digits) + value


def tlv(tag: int, value: bytes) -> bytes:
    """A BER-TLV item (tags of one or two bytes; lengths short, ``81`` or ``82``)."""
    tag_bytes = tag.to_bytes(2 if tag > 0xFF else 1, "big")
    n = len(value)
    if n < 0x80:
        size = bytes([n])
    elif n <= 0xFF:
        size = b"\x81" + bytes([n])
    else:
        size = b"\x82" + n.to_bytes(2, "big")
    return tag_bytes + size + value


# The fixed-length bitmaps the terminal reads in the station's commands.
COMMAND_FIELDS = {0x04: 6, 0x19: 1, 0x49: 2, 0x87: 2, 0x03: 1, 0x01: 1, 0x02: 1}


def read_fields(data: bytes) -> dict[int, bytes]:
    """The bitmaps of a command's data (only fixed-length ones come from a station)."""
    fields: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        tag = data[i]
        width = COMMAND_FIELDS.get(tag)
        if width is None or i + 1 + width > len(data):
            raise FrameError(f"bitmap {tag:02x} unknown or cut short in {data.hex(' ')}")
        fields[tag] = data[i + 1 : i + 1 + width]
        i += 1 + width
    return fields
