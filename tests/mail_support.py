"""A real SMTP server on loopback (aiosmtpd, in the test process), and a reader for the
QR image a mail carries. Nothing is mocked: the station speaks SMTP to it over TCP."""

from __future__ import annotations

import email
import io
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default
from typing import Any, Literal

import zxingcpp
from aiosmtpd.controller import Controller
from PIL import Image


class Mailbox:
    """What the server received, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        self.over_tls: list[bool] = []  # for each message: did it come over TLS
        self.refuse = False  # answer 451 (try again later) to every mail
        self.refuse_to: set[str] = set()  # and to every mail to one of these

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse or self.refuse_to & set(envelope.rcpt_tos):
            return "451 Requested action aborted: try again later"
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self._messages.append(message)
            # STARTTLS notes it in the session; TLS from the first byte in the transport
            ssl_object = server.transport.get_extra_info("ssl_object")
            self.over_tls.append(session.ssl is not None or ssl_object is not None)
        return "250 OK"

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
        self.refuse = False
        self.refuse_to = set()

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class SmtpServer:
    """An SMTP server that can be stopped and started again on the same port; with
    ``tls``, it requires STARTTLS, or speaks TLS from the first byte (``ssl``)."""

    def __init__(
        self,
        *,
        tls: Literal["starttls", "ssl"] | None = None,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.tls = tls
        self.context = context
        self._controller: Controller | None = None

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self.tls == "starttls":
            options = {"tls_context": self.context, "require_starttls": True}
        elif self.tls == "ssl":
            options = {"ssl_context": self.context}
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def smtp_server(
    *, tls: Literal["starttls", "ssl"] | None = None, context: ssl.SSLContext | None = None
) -> Iterator[SmtpServer]:
    server = SmtpServer(tls=tls, context=context)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def qr_in(message: EmailMessage) -> str:
    """The text of the QR image inline in the mail (decoded from its pixels)."""
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1, [p.get_content_type() for p in message.walk()]
    picture = Image.open(io.BytesIO(images[0].get_content()))
    found = zxingcpp.read_barcodes(picture)
    assert len(found) == 1
    return str(found[0].text)
