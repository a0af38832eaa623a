"""What the two OpenAPI fuzz tests share (the station's, tests/hostile/, and the hub's,
tests/fleet/hub/): the document read from a served app, the operations it lists, one
operation fuzzed (its coverage cases, then generated ones under a fixed seed), and the
check that no test leaves threads running but the served app's own pool."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode

SERVER_POOL = "AnyIO worker thread"  # the served app's thread pool, grown on demand
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """As tests/conftest.py's, but the served app outlives each test: its server's worker
    threads may start during one (the module's fixture checks they end with it)."""
    before = set(threading.enumerate())
    yield
    extra = [
        t.name
        for t in threading.enumerate()
        if t not in before and t.is_alive() and t.name != SERVER_POOL
    ]
    assert not extra, f"test left threads running: {extra}"


def load_schema(base_url: str, fuzz_seed: int) -> schemathesis.BaseSchema:
    """The OpenAPI document a served app gives, to fuzz it at ``base_url``."""
    config = schemathesis.Config.from_dict(
        {"seed": fuzz_seed, "base-url": base_url, "generation": {"database": "none"}}
    )
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config)


def documented(schema: schemathesis.BaseSchema) -> set[tuple[str, str]]:
    """Every (method, path) the document lists."""
    return {(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())}


def fuzz_operation(
    schema: schemathesis.BaseSchema,
    method: str,
    path: str,
    call: Callable[[Case, int], None],
    *,
    fuzz_seed: int,
    examples: int,
    coverage_caller: int,
) -> None:
    """Send one operation its coverage cases (as ``coverage_caller``), then ``examples``
    generated ones, valid and invalid, each from one of ten callers; the seed is fixed per
    operation, so every run sends the same requests."""
    operation: Any = schema[path][method]
    coverage = schema.iter_coverage_cases(
        operation,
        generation_modes=MODES,
        generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
    )
    for case in coverage:
        call(case, coverage_caller)

    @seed(fuzz_seed ^ zlib.crc32(f"{method} {path}".encode()))
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(*(operation.as_strategy(mode) for mode in MODES)), who=st.integers(0, 9))
    def fuzz(case: Case, who: int) -> None:
        call(case, who)

    fuzz()
