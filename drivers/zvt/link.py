"""One TCP connection to the terminal: APDUs out, whole APDUs in, each by a deadline.

:meth:`Link.receive` tells three ways of not getting a message apart, because a payment
ends differently for each: :class:`LinkSilent` (nothing whole came in time),
:class:`LinkClosed` (the terminal or the network closed the connection) and
:class:`LinkGarbled` (bytes that are no APDU). ``torn`` says that part of an APDU had come.
"""

from __future__ import annotations

import logging
import socket
import time
from collections import deque
from types import TracebackType

from drivers.zvt.apdu import Apdu, ApduError, ApduReader

_LOGGER = logging.getLogger(__name__)
READ_SIZE = 4096
# Status information and receipt lines may carry a masked card number: their data is
# never logged, only their length.
UNLOGGED = frozenset({(0x04, 0x0F), (0x06, 0xD1), (0x06, 0xD3)})


# The station's commands that begin with the terminal's password: it is logged as ** ** **.
WITH_PASSWORD = frozenset({(0x06, 0x00), (0x06, 0x30), (0x06, 0x31), (0x06, 0x50), (0x05, 0x01)})


def loggable(apdu: Apdu) -> str:
    """The frame in hex; only its command and length where it may hold card data, and
    the password hidden."""
    if apdu.command in UNLOGGED:
        return f"{apdu.cls:02x} {apdu.instr:02x} ({len(apdu.data)} data bytes)"
    text = apdu.encode().hex(" ")
    if apdu.command in WITH_PASSWORD and len(apdu.data) >= 3:
        head = len(apdu.encode()) - len(apdu.data)
        parts = text.split(" ")
        parts[head : head + 3] = ["**"] * 3
        text = " ".join(parts)
    return text


class LinkError(Exception):
    """The link gave no message."""

    def __init__(self, message: str, *, torn: bool = False) -> None:
        super().__init__(message)
        self.torn = torn


class LinkSilent(LinkError):
    """No whole message before the deadline."""


class LinkClosed(LinkError):
    """The connection ended (closed, reset)."""


class LinkGarbled(LinkError):
    """Bytes that are no APDU a terminal sends."""


class Link:
    """A connected socket to the terminal; closes it on exit."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._reader = ApduReader()
        self._queue: deque[Apdu] = deque()
        self.sent: list[bytes] = []  # every frame sent, for the log and the tests
        self.received: list[bytes] = []

    @classmethod
    def connect(cls, host: str, port: int, timeout_s: float) -> Link:
        sock = socket.create_connection((host, port), timeout=timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock)

    def send(self, apdu: Apdu) -> None:
        frame = apdu.encode()
        _LOGGER.debug("zvt tx %s", loggable(apdu))
        self.sent.append(frame)
        try:
            self._sock.sendall(frame)
        except OSError as exc:
            raise LinkClosed(f"sending failed: {exc}") from exc

    def receive(self, deadline: float) -> Apdu:
        """The next whole APDU, waiting until ``deadline`` (``time.monotonic()``) at most."""
        while not self._queue:
            if self._reader.error is not None:
                raise LinkGarbled(str(self._reader.error), torn=True)
            left = deadline - time.monotonic()
            torn = self._reader.pending > 0
            if left <= 0:
                raise LinkSilent("the terminal said nothing in time", torn=torn)
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(READ_SIZE)
            except TimeoutError:
                continue
            except OSError as exc:
                raise LinkClosed(f"the connection failed: {exc}", torn=torn) from exc
            if not chunk:
                raise LinkClosed("the terminal closed the connection", torn=torn)
            try:
                self._queue.extend(self._reader.feed(chunk))
            except ApduError as exc:
                raise LinkGarbled(str(exc), torn=True) from exc
        apdu = self._queue.popleft()
        _LOGGER.debug("zvt rx %s", loggable(apdu))
        self.received.append(apdu.encode())
        return apdu

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Link:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
