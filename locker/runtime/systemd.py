"""Telling systemd how the station is: readiness, watchdog pings, status and stopping.

The documented ``sd_notify`` protocol: one datagram of ``KEY=value`` lines sent to the
AF_UNIX socket named by ``NOTIFY_SOCKET`` (an abstract socket when the name starts with
``@``). Without ``NOTIFY_SOCKET`` (not under systemd, or not ``Type=notify``) every call
does nothing, so the station runs the same by hand.

The watchdog (``WatchdogSec=`` in the unit, seen here as ``WATCHDOG_USEC``) is fed only
while the station's own loops are alive: each loop records a :class:`Heartbeats` beat, and
:class:`WatchdogPinger` sends ``WATCHDOG=1`` every half period only when every beat is
fresh. A hung serial loop or a stuck event loop therefore stops the pings, and systemd
restarts the station.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

Clock = Callable[[], float]


def _address(name: str) -> str | bytes:
    return b"\0" + name[1:].encode() if name.startswith("@") else name


def notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``message`` (``READY=1``, ``STATUS=…``) to systemd; False when not asked to."""
    env = os.environ if environ is None else environ
    name = env.get("NOTIFY_SOCKET", "")
    if not name or name[0] not in "/@":
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.sendto(message.encode(), _address(name))
        except OSError:  # systemd gone (shutting down): nothing to tell
            return False
    return True


def watchdog_period(environ: Mapping[str, str] | None = None) -> float | None:
    """The watchdog's period in seconds when systemd watches this very process."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or not env.get("NOTIFY_SOCKET"):
        return None
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return int(usec) / 1_000_000


class Heartbeats:
    """When each of the station's loops last went round (monotonic seconds)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._beats: dict[str, float] = {}
        self._guard = threading.Lock()

    def expect(self, name: str) -> None:
        """A loop that must beat from now on (counted from now, so it gets its period)."""
        self.beat(name)

    def beat(self, name: str) -> None:
        with self._guard:
            self._beats[name] = self._clock()

    def stale(self, max_age_s: float) -> list[tuple[str, float]]:
        """The loops silent for longer than ``max_age_s``, with how long."""
        now = self._clock()
        with self._guard:
            ages = [(name, now - at) for name, at in self._beats.items()]
        return sorted((name, age) for name, age in ages if age > max_age_s)


class WatchdogPinger:
    """A thread that sends ``WATCHDOG=1`` every ``period_s / 2`` while every heartbeat is
    younger than ``period_s``; when one is not, it says which in ``STATUS=`` and sends no
    ping (systemd then ends the station after its ``WatchdogSec``)."""

    def __init__(
        self,
        heartbeats: Heartbeats,
        period_s: float,
        send: Callable[[str], bool] = notify,
    ) -> None:
        self.heartbeats = heartbeats
        self.period_s = period_s
        self._send = send
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._withheld: tuple[str, ...] = ()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.period_s)

    def tick(self) -> bool:
        """One round: a ping when all is well (True), else a status naming the silent."""
        stale = self.heartbeats.stale(self.period_s)
        names = tuple(name for name, _ in stale)
        if not stale:
            if self._withheld:
                self._send("STATUS=serving (every loop answers again)")
                self._withheld = ()
            self._send("WATCHDOG=1")
            return True
        if names != self._withheld:
            silent = ", ".join(f"{name} silent for {age:.0f} s" for name, age in stale)
            self._send(f"STATUS=watchdog withheld: {silent}")
            self._withheld = names
        return False

    def _run(self) -> None:
        while not self._stop.wait(self.period_s / 2):
            self.tick()
