"""The crash tests' world: a station process, its simulator and its database, stopped after
each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crash.world import World, crash_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with crash_world(tmp_path) as made:
        yield made
        made.station.stop()
