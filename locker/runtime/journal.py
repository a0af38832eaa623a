"""Log records to the systemd journal with the fields a technician filters by.

``journalctl -u locker-station BUS=main``, ``COMPARTMENT=7`` or ``PARCEL=42`` finds what
happened on one bus, at one door or to one parcel. A log call names them with
``extra=fields(bus=…, compartment=…, parcel=…)``; only these three (and the journal's
own MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_*, LOGGER) are ever sent, and a parcel is
named by its id, never by its recipient, code or phone.

The journal's native protocol: one datagram to ``/run/systemd/journal/socket`` with a
``KEY=value`` line per field, or, for a value holding a newline, ``KEY``, a newline, its
length as a little-endian 64-bit number, the value and a newline. A record too large for
one datagram goes in a sealed memfd passed along (SCM_RIGHTS), as the protocol allows.
Used only when the station runs under systemd (``JOURNAL_STREAM`` set); otherwise
logging stays as it is.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import socket
import struct
from collections.abc import Mapping

JOURNAL_SOCKET = "/run/systemd/journal/socket"
IDENTIFIER = "locker"
FIELDS = ("bus", "compartment", "parcel")  # record attributes -> BUS=, COMPARTMENT=, PARCEL=

_PRIORITY = {  # syslog levels
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


def fields(
    *, bus: str | None = None, compartment: int | None = None, parcel: int | None = None
) -> dict[str, object]:
    """The ``extra=`` of a log call: which bus, compartment or parcel it is about."""
    named = {"bus": bus, "compartment": compartment, "parcel": parcel}
    return {key: value for key, value in named.items() if value is not None}


def priority(levelno: int) -> int:
    for level, value in sorted(_PRIORITY.items(), reverse=True):
        if levelno >= level:
            return value
    return 7


def encode(entry: Mapping[str, str]) -> bytes:
    """One journal entry in the native protocol's format."""
    out = bytearray()
    for key, value in entry.items():
        data = value.encode("utf-8", "replace")
        if b"\n" in data:
            out += key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        else:
            out += key.encode() + b"=" + data + b"\n"
    return bytes(out)


def _new_socket() -> socket.socket:
    return socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)


class JournalHandler(logging.Handler):
    """Sends each record as one journal entry (its fields, see the module)."""

    def __init__(self, path: str = JOURNAL_SOCKET, identifier: str = IDENTIFIER) -> None:
        super().__init__()
        self.path = path
        self.identifier = identifier
        self._sock = _new_socket()

    def entry(self, record: logging.LogRecord) -> dict[str, str]:
        message = record.getMessage()
        if record.exc_info:
            formatter = self.formatter or logging.Formatter()
            message = f"{message}\n{formatter.formatException(record.exc_info)}"
        entry: dict[str, str | None] = {
            "MESSAGE": message,
            "PRIORITY": str(priority(record.levelno)),
            "SYSLOG_IDENTIFIER": self.identifier,
            "LOGGER": record.name,
            "CODE_FILE": record.pathname,
            "CODE_LINE": str(record.lineno),
            "CODE_FUNC": record.funcName,  # None in a record made by hand
        }
        sent = {key: value for key, value in entry.items() if value is not None}
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                sent[name.upper()] = str(value)
        return sent

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._send(encode(self.entry(record)))
        except Exception:  # logging must never break the station
            self.handleError(record)

    def _send(self, data: bytes) -> None:
        try:
            self._sock.sendto(data, self.path)
        except OSError as exc:
            if exc.errno in (errno.EBADF, errno.ENOTSOCK):
                # Closed under us: ``logging.config`` (alembic's, for one) closes every
                # handler it finds, and a closed handler still gets records. A new socket.
                self._sock = _new_socket()
                self._send(data)
                return
            if exc.errno not in (errno.EMSGSIZE, errno.ENOBUFS):
                raise
            self._send_large(data)

    def _send_large(self, data: bytes) -> None:
        fd = os.memfd_create("journal-entry", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            os.write(fd, data)
            fcntl.fcntl(
                fd,
                fcntl.F_ADD_SEALS,
                fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL,
            )
            rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))]
            self._sock.sendmsg([], rights, 0, self.path)
        finally:
            os.close(fd)

    def close(self) -> None:
        self._sock.close()
        super().close()


def under_journal(environ: Mapping[str, str] | None = None) -> bool:
    """Started by systemd with its output to the journal (and the journal's socket there)."""
    env = os.environ if environ is None else environ
    return bool(env.get("JOURNAL_STREAM")) and os.path.exists(
        env.get("LOCKER_JOURNAL_SOCKET", JOURNAL_SOCKET)
    )


def install(
    environ: Mapping[str, str] | None = None, level: int = logging.INFO
) -> JournalHandler | None:
    """Under systemd, route the station's log records to the journal (returns the
    handler); otherwise change nothing (None)."""
    env = os.environ if environ is None else environ
    if not under_journal(env):
        return None
    handler = JournalHandler(env.get("LOCKER_JOURNAL_SOCKET", JOURNAL_SOCKET))
    handler.setLevel(level)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    return handler
