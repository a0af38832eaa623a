"""The one secret an outbox row may carry, a pickup code, is sealed (Fernet: AES-128-CBC
with HMAC-SHA256) under a key derived from the station key, and erased once every
message that needs it was delivered. A copied database alone gives no codes."""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken

from locker.codes import CodeHasher, PickupCode


class Sealer:
    def __init__(self, hasher: CodeHasher) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(hasher.derive("outbox-seal")))

    def seal(self, code: PickupCode) -> str:
        body = json.dumps({"pin": code.pin, "qr": code.qr_token}).encode()
        return self._fernet.encrypt(body).decode()

    def unseal(self, sealed: str) -> PickupCode | None:
        """The code, or None if it was sealed under another key (a restored key file)."""
        try:
            body = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            return None
        return PickupCode(body["pin"], body["qr"])
