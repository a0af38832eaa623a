"""The one secret an outbox row may carry, a pickup code, is sealed (Fernet: AES-128-CBC
with HMAC-SHA256) under a key derived from the station key, and erased once every
message that needs it was delivered. A copied database alone gives no codes.

``cryptography`` (7 MiB resident) is loaded when the first code is sealed, not at start.
"""

from __future__ import annotations

import base64
import json
from functools import cached_property
from typing import TYPE_CHECKING

from locker.codes import CodeHasher, PickupCode

if TYPE_CHECKING:
    from cryptography.fernet import Fernet


class Sealer:
    def __init__(self, hasher: CodeHasher) -> None:
        self._key = base64.urlsafe_b64encode(hasher.derive("outbox-seal"))

    @cached_property
    def _fernet(self) -> Fernet:
        from cryptography.fernet import Fernet

        return Fernet(self._key)

    def seal(self, code: PickupCode) -> str:
        body = json.dumps({"pin": code.pin, "qr": code.qr_token}).encode()
        return self._fernet.encrypt(body).decode()

    def unseal(self, sealed: str) -> PickupCode | None:
        """The code, or None if it was sealed under another key (a restored key file)."""
        from cryptography.fernet import InvalidToken

        try:
            body = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            return None
        return PickupCode(body["pin"], body["qr"])
