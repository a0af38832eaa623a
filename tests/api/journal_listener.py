"""systemd's two datagram sockets played in a test: a bound AF_UNIX socket that keeps
every datagram (sd_notify's lines, or the journal's native entries), and the journal's
format read back as systemd-journald reads it."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path


class Listener:
    """A bound AF_UNIX datagram socket and every datagram that reached it, in order."""

    def __init__(self, path: Path | str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path) if isinstance(path, Path) else path)
        self.sock.settimeout(0.1)
        self.got: list[bytes] = []
        self._changed = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                data = self.sock.recv(1 << 20)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._changed:
                self.got.append(data)
                self._changed.notify_all()

    def lines(self) -> list[str]:
        with self._changed:
            return [
                line for data in self.got for line in data.decode(errors="replace").splitlines()
            ]

    def wait(self, what: Callable[[list[str]], bool], timeout_s: float = 60.0) -> list[str]:
        """Wait until ``what(lines)``; a deadline against a hang, not a timing check."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not what(self.lines()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not received; got {self.lines()}")
                self._changed.wait(left)
            return self.lines()

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=5)
        self.sock.close()


def parse_entry(data: bytes) -> dict[str, str]:
    """The journal's native format, read back as systemd-journald reads it."""
    entry: dict[str, str] = {}
    at = 0
    while at < len(data):
        end = data.index(b"\n", at)
        line = data[at:end]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            at = end + 1
        else:
            key = line
            (size,) = struct.unpack("<Q", data[end + 1 : end + 9])
            value = data[end + 9 : end + 9 + size]
            assert data[end + 9 + size : end + 10 + size] == b"\n"
            at = end + 10 + size
        entry[key.decode()] = value.decode()
    return entry
