"""Pickup codes: a PIN to type and a QR token to scan.

Both come from :mod:`secrets`. The station stores only their keyed hashes
(HMAC-SHA256 under a per-station key kept outside the database), so a lookup is one
index hit and a stolen database file yields no usable code.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_BYTES = 32
QR_TOKEN_BYTES = 24  # 192 random bits; the design asks for at least 128
DEFAULT_PIN_DIGITS = 10


@dataclass(frozen=True)
class PickupCode:
    """A freshly issued code in clear text: handed to the recipient once, never stored."""

    pin: str
    qr_token: str


def new_pin(digits: int = DEFAULT_PIN_DIGITS) -> str:
    if digits < 4:
        raise ValueError("a PIN needs at least 4 digits")
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def new_qr_token() -> str:
    return secrets.token_urlsafe(QR_TOKEN_BYTES)


def normalize_pin(text: str) -> str:
    """What a person typed, without the spaces and dashes a printed code may show."""
    return "".join(ch for ch in text if ch not in " -\t")


def group_pin(pin: str) -> str:
    """A PIN as a person reads it: in groups of three from the left, the last group of up
    to four (``0635858597`` -> ``063 585 8597``), so it is read out and typed without losing
    one's place. Anything not all digits is returned as it is."""
    digits = normalize_pin(pin)
    if not digits.isdigit() or len(digits) <= 4:
        return pin
    groups: list[str] = []
    while len(digits) > 4:
        groups.append(digits[:3])
        digits = digits[3:]
    groups.append(digits)
    return " ".join(groups)


class CodeHasher:
    """Keyed hashes of codes; the PIN and the QR token live in separate hash domains."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the code key must have at least 16 bytes")
        self._key = key

    def _digest(self, domain: bytes, value: str) -> str:
        return hmac.new(self._key, domain + b"\x00" + value.encode(), hashlib.sha256).hexdigest()

    def pin(self, pin: str) -> str:
        return self._digest(b"pin", normalize_pin(pin))

    def qr(self, token: str) -> str:
        return self._digest(b"qr", token.strip())

    def secret(self, domain: str, value: str) -> str:
        """Keyed hash of another kind of secret (bearer tokens, session ids, CSRF tokens)."""
        if domain in ("pin", "qr") or "\x00" in domain:
            raise ValueError("the pin and qr domains belong to pickup codes; no NUL in a domain")
        return self._digest(domain.encode(), value)

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for another use of the station key (sealing, signing)."""
        return hmac.new(self._key, b"derive\x00" + purpose.encode(), hashlib.sha256).digest()


def load_or_create_key(path: Path) -> bytes:
    """Read the station's code key, creating it (mode 0600) on first start.

    Losing this file makes every outstanding code unusable, so it is never rewritten.
    """
    if path.exists():
        key = path.read_bytes()
        if len(key) < 16:
            raise ValueError(f"{path}: the code key is too short; restore it from the backup")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the new file's name survives a power cut too
    finally:
        os.close(directory)
    return key
