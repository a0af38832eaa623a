"""TLS for the station's MQTT link, and what the link's health says.

The broker's certificate chain and its name are always verified (``ssl``'s defaults for a
client: ``CERT_REQUIRED`` and ``check_hostname``), against the system's CAs or only those in
``LOCKER_MQTT_CA_FILE``; TLS 1.2 at least; a client certificate if one is set. paho makes the
handshake itself and, when it fails, only retries: the context's socket class reports the
handshake's error here first (and a TLS alert read later, as TLS 1.3 sends a refused client
certificate), so the station's health and log can say *why* (an untrusted certificate, a
certificate for another name, no client certificate) instead of "connecting" forever.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from locker.runtime.settings import Settings

UplinkState = Literal["connecting", "connected", "refused"]


@dataclass(frozen=True)
class UplinkStatus:
    """The link as the health endpoint shows it."""

    state: UplinkState
    tls: bool
    detail: str | None = None  # why it is refused (the broker's or the TLS handshake's word)
    since: datetime | None = None


class StatusBoard:
    """The link's current status, set from paho's threads, read by the health endpoint."""

    def __init__(self, tls: bool, now: Callable[[], datetime]) -> None:
        self._lock = threading.Lock()
        self._now = now
        self._status = UplinkStatus("connecting", tls, since=now())

    def get(self) -> UplinkStatus:
        with self._lock:
            return self._status

    def set(self, state: UplinkState, detail: str | None = None) -> bool:
        """Set it; True when it changed (the caller logs a change once, not every retry)."""
        with self._lock:
            old = self._status
            if (old.state, old.detail) == (state, detail):
                return False
            self._status = UplinkStatus(state, old.tls, detail, self._now())
            return True


def describe(error: Exception) -> str:
    """The handshake's failure in words for staff: the certificate's verdict if there is one."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS: the broker's certificate was refused: {error.verify_message}"
    return f"TLS with the broker failed: {error}"


def client_context(settings: Settings, on_failure: Callable[[Exception], None]) -> ssl.SSLContext:
    """The context for paho's ``tls_set_context``; ``on_failure`` hears every failed
    handshake (from paho's network thread) before paho retries."""
    cafile = str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # and CERT_REQUIRED, check_hostname
    if settings.mqtt_client_cert is not None and settings.mqtt_client_key is not None:
        context.load_cert_chain(settings.mqtt_client_cert, settings.mqtt_client_key)

    class ReportingSocket(ssl.SSLSocket):
        def do_handshake(self, block: bool = False) -> None:
            try:
                super().do_handshake(block)
            except (ssl.SSLError, ssl.CertificateError) as exc:
                on_failure(exc)
                raise

        def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
            # TLS 1.3: a broker that refuses the client's certificate says so after the
            # client's side of the handshake, in an alert read with the first answer.
            try:
                return super().recv(buflen, flags)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                raise
            except ssl.SSLError as exc:
                on_failure(exc)
                raise

    context.sslsocket_class = ReportingSocket
    return context
