"""The serial port under a bus: opened by URL on first use, reopened after it breaks.

``serial.serial_for_url`` makes ``/dev/ttyUSB0``, a pty path and ``socket://host:port`` the
same (lock-protocol.md §8). A port that fails is closed; the next use reopens it, at most
once per ``reopen_after_s``, so a missing adapter is not hammered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, NoReturn

import serial

from drivers.errors import PortUnavailable

_LOGGER = logging.getLogger(__name__)

# What a broken port raises: pyserial's own error, the OS's, and (POSIX) termios.error,
# which tcflush raises on a pty whose other end has gone and which is no OSError.
PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError)
try:
    import termios
except ImportError:  # pragma: no cover - Windows
    pass
else:
    PORT_ERRORS = (*PORT_ERRORS, termios.error)
_OPEN_ERRORS: tuple[type[BaseException], ...] = (*PORT_ERRORS, ValueError)  # bad URL


class Port:
    """One pyserial port, opened lazily.

    :param count: adds to the bus counters (``port_errors``, ``reconnects``).
    """

    def __init__(
        self,
        url: str,
        *,
        baudrate: int,
        timeout_s: float,
        reopen_after_s: float,
        count: Callable[..., None],
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.reopen_after_s = reopen_after_s
        self._count = count
        self._serial: Any = None  # serial.SerialBase once open (pyserial ships no types)
        self._next_open = 0.0
        self._ever_opened = False

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def get(self) -> Any:
        """The open port, opening it if needed. :raises PortUnavailable:"""
        if self._serial is not None:
            return self._serial
        now = time.monotonic()
        if now < self._next_open:
            raise PortUnavailable(f"{self.url} is unavailable (next attempt to open it soon)")
        self._next_open = now + self.reopen_after_s
        try:
            port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=self.timeout_s)
        except _OPEN_ERRORS as exc:
            self._count(port_errors=1)
            _LOGGER.warning("cannot open %s: %s", self.url, exc)
            raise PortUnavailable(f"cannot open {self.url}: {exc}") from exc
        if self._ever_opened:
            self._count(reconnects=1)
            _LOGGER.info("reopened %s", self.url)
        self._ever_opened = True
        self._serial = port
        return port

    def fail(self, exc: BaseException) -> NoReturn:
        """The port broke while in use: count, close, raise :class:`PortUnavailable`."""
        self._count(port_errors=1)
        _LOGGER.warning("%s failed: %s", self.url, exc)
        self.close()
        raise PortUnavailable(f"{self.url} failed: {exc}") from exc

    def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except PORT_ERRORS as exc:
                _LOGGER.debug("closing %s: %s", self.url, exc)
