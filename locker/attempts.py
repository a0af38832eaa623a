"""Limits on wrong pickup codes, per terminal and for the whole station.

A terminal (the kiosk, or one API client) gets ``free_failures`` wrong codes with no
wait at all, so a customer who mistypes twice still collects at once; after that each
further failure doubles the wait, up to ``max_delay_s``. The station as a whole accepts
at most ``station_failures_per_hour`` wrong codes in any clock hour, whichever terminals
they come from, which caps what a guesser can try in a month whatever he does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from locker.errors import TooManyAttempts
from locker.tables import AttemptCounter

STATION_SCOPE = "station"
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class AttemptPolicy:
    free_failures: int = 3
    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0
    station_failures_per_hour: int = 60

    def terminal_delay(self, consecutive: int) -> float:
        """Seconds to wait after ``consecutive`` wrong codes in a row from one terminal."""
        if consecutive < self.free_failures:
            return 0.0
        steps = consecutive - self.free_failures
        return min(self.max_delay_s, self.base_delay_s * 2.0 ** min(steps, 30))


def _counter(session: Session, scope: str) -> AttemptCounter:
    return session.get(AttemptCounter, scope) or AttemptCounter(scope=scope)


def check(
    session: Session,
    policy: AttemptPolicy,
    terminal: str,
    now: datetime,
    *,
    station_wide: bool = True,
) -> None:
    """Raise :class:`TooManyAttempts` if this terminal (or, if ``station_wide``, the
    station) must wait."""
    waits: list[float] = []
    mine = _counter(session, f"terminal:{terminal}")
    delay = policy.terminal_delay(mine.consecutive)
    if delay and mine.last_failure_at is not None:
        waits.append((mine.last_failure_at + timedelta(seconds=delay) - now).total_seconds())
    station = _counter(session, STATION_SCOPE)
    if (
        station_wide
        and station.window_start is not None
        and now - station.window_start < WINDOW
        and station.window_failures >= policy.station_failures_per_hour
    ):
        waits.append((station.window_start + WINDOW - now).total_seconds())
    longest = max(waits, default=0.0)
    if longest > 0:
        raise TooManyAttempts(longest)


def failed(session: Session, terminal: str, now: datetime, *, station_wide: bool = True) -> None:
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
