"""Limits on wrong pickup codes, per terminal and for the whole station.

A terminal is either a **kiosk device** (a screen paired by staff, known by its device
token: ``kiosk:<name>``) or a **network client** (known only by its address). Each gets
``free_failures`` wrong codes with no wait at all, so a customer who mistypes twice still
collects at once; after that each further failure doubles the wait, up to
``max_delay_s`` for a network client and ``device_max_delay_s`` for a kiosk device.

Network clients can take a fresh address for every guess, so their per-client waits
bind nobody who means harm: all of them together get at most
``station_failures_per_hour`` wrong codes in an hour, which caps what a guesser can try
in a month whatever he does. A kiosk device cannot be multiplied (only staff pair one),
so its own waits are its bound, and they are kept short because every customer queues at
the same screen: one guesser standing there makes the next customer wait at most
``device_max_delay_s``. The station-wide count therefore never refuses

- a kiosk device (its own limit bounds it; a guesser on the network cannot lock the
  shop's screen), nor
- a code that is not PIN-shaped: only the QR token has letters, and 192 random bits
  cannot be guessed, so a customer who scans or follows the link is never turned away.

A right PIN typed on the network while the hourly cap is full is refused until the hour
is over (the answer says to use the kiosk or the QR code): that is the price of the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from locker.codes import normalize_pin
from locker.errors import TooManyAttempts
from locker.store.tables import AttemptCounter

STATION_SCOPE = "station"
DEVICE_PREFIX = "kiosk:"  # a terminal key of a paired kiosk (never an address's)
WINDOW = timedelta(hours=1)


def device_terminal(name: str) -> str:
    return DEVICE_PREFIX + name


def is_device(terminal: str) -> bool:
    return terminal.startswith(DEVICE_PREFIX)


def guessable(code: str) -> bool:
    """A code a guesser could hit by trying: PIN-shaped (digits once spaces are gone)."""
    return normalize_pin(code).isdigit()


@dataclass(frozen=True)
class AttemptPolicy:
    free_failures: int = 3
    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0
    station_failures_per_hour: int = 60
    device_max_delay_s: float = 60.0

    def terminal_delay(self, consecutive: int, *, device: bool = False) -> float:
        """Seconds to wait after ``consecutive`` wrong codes in a row from one terminal."""
        if consecutive < self.free_failures:
            return 0.0
        steps = consecutive - self.free_failures
        most = min(self.max_delay_s, self.device_max_delay_s) if device else self.max_delay_s
        return min(most, self.base_delay_s * 2.0 ** min(steps, 30))


def _counter(session: Session, scope: str) -> AttemptCounter:
    return session.get(AttemptCounter, scope) or AttemptCounter(scope=scope)


def check(
    session: Session,
    policy: AttemptPolicy,
    terminal: str,
    now: datetime,
    *,
    station_wide: bool = True,
    code: str | None = None,
) -> None:
    """Raise :class:`TooManyAttempts` if this terminal (or, if ``station_wide``, the
    station) must wait. The station's count applies only to a network client trying a
    guessable ``code`` (see the module's text)."""
    waits: list[float] = []
    device = is_device(terminal)
    mine = _counter(session, f"terminal:{terminal}")
    delay = policy.terminal_delay(mine.consecutive, device=device)
    if delay and mine.last_failure_at is not None:
        waits.append((mine.last_failure_at + timedelta(seconds=delay) - now).total_seconds())
    station = _counter(session, STATION_SCOPE)
    if (
        station_wide
        and not device
        and (code is None or guessable(code))
        and station.window_start is not None
        and now - station.window_start < WINDOW
        and station.window_failures >= policy.station_failures_per_hour
    ):
        station_wait = (station.window_start + WINDOW - now).total_seconds()
        if station_wait > max(waits, default=0.0):
            raise TooManyAttempts(station_wait, station_wide=True)
    longest = max(waits, default=0.0)
    if longest > 0:
        raise TooManyAttempts(longest)


def failed(session: Session, terminal: str, now: datetime, *, station_wide: bool = True) -> None:
    """Count a wrong code; a kiosk device's do not fill the network's hourly cap."""
    station_wide = station_wide and not is_device(terminal)
    scopes = (f"terminal:{terminal}", STATION_SCOPE) if station_wide else (f"terminal:{terminal}",)
    for scope in scopes:
        counter = _counter(session, scope)
        counter.consecutive += 1
        counter.last_failure_at = now
        if counter.window_start is None or now - counter.window_start >= WINDOW:
            counter.window_start = now
            counter.window_failures = 0
        counter.window_failures += 1
        session.add(counter)


def refunded(session: Session, terminal: str) -> None:
    """Take back one failure counted in advance (the attempt turned out right)."""
    counter = session.get(AttemptCounter, f"terminal:{terminal}")
    if counter is not None and counter.consecutive:
        counter.consecutive -= 1
        counter.window_failures = max(0, counter.window_failures - 1)
        session.add(counter)


def succeeded(session: Session, terminal: str) -> None:
    """A right code clears the terminal's run of failures (not the station's hourly count)."""
    counter = session.get(AttemptCounter, f"terminal:{terminal}")
    if counter is not None and counter.consecutive:
        counter.consecutive = 0
        session.add(counter)
