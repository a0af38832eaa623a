"""Packed BCD as ZVT writes numbers: two decimal digits a byte, the high nibble first.

Amounts are 6 bytes of cents (20.40 € is ``00 00 00 00 20 40``), the password 3 bytes,
trace numbers 3, receipt numbers 2. The lengths of variable bitmaps (LLVAR, LLLVAR) are
written as digits too, one a byte, each as ``F`` and the digit (``F1 F5`` is 15).
"""

from __future__ import annotations

AMOUNT_BYTES = 6
PASSWORD_BYTES = 3
MAX_AMOUNT_CENTS = 10 ** (2 * AMOUNT_BYTES) - 1


class BcdError(ValueError):
    """Bytes that are not packed BCD, or a number that does not fit."""


def encode(value: int, size: int) -> bytes:
    """``value`` (0 or more) as ``size`` bytes of packed BCD."""
    if value < 0:
        raise BcdError(f"BCD holds no negative number ({value})")
    digits = str(value).rjust(2 * size, "0")
    if len(digits) > 2 * size:
        raise BcdError(f"{value} does not fit in {size} BCD byte(s)")
    return bytes(int(digits[i : i + 2], 16) for i in range(0, len(digits), 2))


def decode(data: bytes) -> int:
    """The number packed BCD ``data`` holds; a nibble above 9 raises :class:`BcdError`."""
    return int(digits(data))


def digits(data: bytes) -> str:
    """The decimal digits of ``data``, leading zeros kept (a receipt number ``0042``)."""
    text = data.hex()
    if not text.isdigit():
        raise BcdError(f"not packed BCD: {data.hex(' ')}")
    return text


def amount(cents: int) -> bytes:
    """An amount in cents as the 6 bytes of bitmap ``04``."""
    if not 0 <= cents <= MAX_AMOUNT_CENTS:
        raise BcdError(f"an amount is 0 to {MAX_AMOUNT_CENTS} cents, not {cents}")
    return encode(cents, AMOUNT_BYTES)


def password(text: str) -> bytes:
    """The terminal's 6-digit password as its 3 BCD bytes."""
    if len(text) != 2 * PASSWORD_BYTES or not text.isdigit() or not text.isascii():
        raise BcdError("the terminal's password is 6 digits")
    return encode(int(text), PASSWORD_BYTES)


def var_length(length: int, places: int) -> bytes:
    """The length of an LLVAR (``places=2``) or LLLVAR (3) bitmap: ``F`` and a digit each."""
    text = str(length)
    if length < 0 or len(text) > places:
        raise BcdError(f"{length} does not fit in {places} length digits")
    return bytes(0xF0 | int(d) for d in text.rjust(places, "0"))


def read_var_length(data: bytes) -> int:
    """The length an LLVAR/LLLVAR prefix holds; any byte not ``F0``..``F9`` raises."""
    value = 0
    for byte in data:
        if byte & 0xF0 != 0xF0 or byte & 0x0F > 9:
            raise BcdError(f"not a length digit: {byte:02x}")
        value = value * 10 + (byte & 0x0F)
    return value
