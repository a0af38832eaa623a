"""The bitmaps of a ZVT message: a one-byte tag and a value of fixed or prefixed length.

:func:`parse` reads the fields the station uses and *skips* every other one whose length
it knows (fixed lengths, LLVAR and LLLVAR prefixes, BER-TLV containers), so a terminal's
extra data (a VU number, a masked card number, vendor TLV) does no harm. A tag it does not
know at all ends the reading there (its length cannot be known): the fields before it
stand, and the tag is reported, so a result code that came after it is never guessed.
A known field cut short is malformed: :class:`BitmapError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.zvt import bcd

RESULT = 0x27
AMOUNT = 0x04
TRACE = 0x0B
TIME = 0x0C
DATE = 0x0D
RECEIPT = 0x87
CARD_TYPE = 0x8A
CARD_NAME = 0x8B
CURRENCY = 0x49
TERMINAL_ID = 0x29
TOTALS = 0x60
TLV = 0x06

FIXED: dict[int, int] = {
    0x01: 1,  # timeout
    0x02: 1,  # max. status infos
    0x03: 1,  # service byte
    AMOUNT: 6,
    0x05: 1,  # pump number
    TRACE: 3,
    TIME: 3,
    DATE: 2,
    0x0E: 2,  # expiry date (skipped: card data)
    0x17: 2,  # card sequence number (skipped)
    0x19: 1,  # payment type / status byte
    RESULT: 1,
    TERMINAL_ID: 4,
    0x2A: 15,  # VU number
    0x37: 3,  # original trace
    0x3A: 2,  # CVV (skipped)
    0x3B: 8,  # AID
    CURRENCY: 2,
    RECEIPT: 2,
    0x88: 3,  # turnover number
    CARD_TYPE: 1,
    0x8C: 1,  # card-type id of the network operator
    0xA0: 1,  # result code of the authorisation system
    0xBA: 5,  # AID parameter
    0xD0: 1,  # algorithm key
}
LLVAR = frozenset({0x22, 0x23, 0x2D, CARD_NAME, 0xA7})  # 22: masked PAN, skipped
LLLVAR = frozenset({0x24, 0x2E, 0x3C, TOTALS, 0x92, 0x9A, 0xAF})


class BitmapError(ValueError):
    """A known bitmap whose value is cut short or badly formed."""


@dataclass
class Fields:
    """What :func:`parse` found: values by tag, the tags skipped, and where it stopped."""

    values: dict[int, bytes] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)
    unknown: int | None = None  # the tag of unknown length that ended the reading

    def bcd(self, tag: int) -> int | None:
        raw = self.values.get(tag)
        return None if raw is None else bcd.decode(raw)

    def digits(self, tag: int) -> str | None:
        raw = self.values.get(tag)
        return None if raw is None else bcd.digits(raw)

    def byte(self, tag: int) -> int | None:
        raw = self.values.get(tag)
        return None if raw is None else raw[0]

    def text(self, tag: int) -> str | None:
        raw = self.values.get(tag)
        return None if raw is None else raw.decode("latin-1").strip()


USED = frozenset(
    {
        RESULT,
        AMOUNT,
        TRACE,
        TIME,
        DATE,
        RECEIPT,
        CARD_TYPE,
        CARD_NAME,
        CURRENCY,
        TERMINAL_ID,
        TOTALS,
    }
)


def parse(data: bytes) -> Fields:
    """The bitmaps of ``data`` (a message's data after any fixed prefix)."""
    found = Fields()
    at = 0
    while at < len(data):
        tag = data[at]
        at += 1
        try:
            value, at = _value(tag, data, at)
        except LookupError:
            found.unknown = tag
            return found
        if tag in USED:
            found.values[tag] = value
        else:
            found.skipped.append(tag)
    return found


def _value(tag: int, data: bytes, at: int) -> tuple[bytes, int]:
    if tag in FIXED:
        size = FIXED[tag]
    elif tag in LLVAR or tag in LLLVAR:
        places = 2 if tag in LLVAR else 3
        prefix = data[at : at + places]
        if len(prefix) < places:
            raise BitmapError(f"bitmap {tag:02x}: its length is cut short")
        try:
            size = bcd.read_var_length(prefix)
        except bcd.BcdError as exc:
            raise BitmapError(f"bitmap {tag:02x}: {exc}") from exc
        at += places
    elif tag == TLV:
        size, at = tlv_length(data, at)
    else:
        raise LookupError(tag)
    value = data[at : at + size]
    if len(value) < size:
        raise BitmapError(f"bitmap {tag:02x}: {size} byte(s) announced, {len(value)} came")
    return value, at + size


def tlv_length(data: bytes, at: int) -> tuple[int, int]:
    """A BER-TLV length at ``data[at]`` (``7F``, ``81 xx``, ``82 xx xx``) and where the
    value begins."""
    if at >= len(data):
        raise BitmapError("a TLV length is cut short")
    first = data[at]
    if first < 0x80:
        return first, at + 1
    places = first & 0x7F
    if places not in (1, 2) or at + 1 + places > len(data):
        raise BitmapError(f"a TLV length of form {first:02x} is cut short or unsupported")
    return int.from_bytes(data[at + 1 : at + 1 + places], "big"), at + 1 + places


def tlv_items(data: bytes) -> list[tuple[int, bytes]]:
    """The top-level items of a TLV container's value (one-byte tags; two-byte tags,
    whose first byte has the low five bits set, are read whole)."""
    items: list[tuple[int, bytes]] = []
    at = 0
    while at < len(data):
        tag = data[at]
        at += 1
        if tag & 0x1F == 0x1F:
            if at >= len(data):
                raise BitmapError("a TLV tag is cut short")
            tag = tag << 8 | data[at]
            at += 1
        size, at = tlv_length(data, at)
        value = data[at : at + size]
        if len(value) < size:
            raise BitmapError(f"TLV {tag:02x}: {size} byte(s) announced, {len(value)} came")
        items.append((tag, value))
        at += size
    return items
