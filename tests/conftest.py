"""Shared fixtures: a migrated SQLite file per test, the demo station, hygiene checks."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from locker.layout import demo_layout
from locker.station import Station
from locker.testkit.memory_locks import InMemoryLocks
from tests.cold_support import cold_groups_in_band
from tests.support import FakeClock, fresh_database, make_station, migrated_template

for name, examples, steps in (("dev", 25, 20), ("ci", 60, 30), ("thorough", 500, 60)):
    settings.register_profile(
        name,
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def locks() -> InMemoryLocks:
    return InMemoryLocks([spec.id for spec in demo_layout().compartments])


@pytest.fixture
def station(tmp_path: Path, locks: InMemoryLocks, clock: FakeClock) -> Iterator[Station]:
    db = fresh_database(migrated_template(), tmp_path)
    made = make_station(db, demo_layout(), locks, clock)
    cold_groups_in_band(made)  # the demo's fridge (11, 12) takes parcels like the others
    yield made
    db.close()


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running (a simulator, a reader, a poller)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"test left threads running: {[t.name for t in extra]}"


class _FailOnBadFormat(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.getMessage()
        except (TypeError, ValueError) as exc:  # pragma: no cover - only on a bug
            raise AssertionError(f"bad log format: {record.msg!r} % {record.args!r}") from exc


@pytest.fixture(autouse=True)
def fail_on_bad_log_format() -> Iterator[None]:
    handler = _FailOnBadFormat(level=logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    root.setLevel(old_level)
