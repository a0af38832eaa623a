"""What the two OpenAPI fuzz tests share (the station's, tests/hostile/, and the hub's,
tests/fleet/hub/): the document read from a served app, the operations it lists, one
operation fuzzed (its coverage cases, then generated ones under a fixed seed, then, if
asked, generated ones made hostile: one text or number of each replaced by a NUL, a
control or format character, a huge text or a number no 64-bit column holds), and the
check that no test leaves threads running but the served app's own pool."""

from __future__ import annotations

import copy
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


# What an attacker puts where a text or a number goes (a huge text only into a body: in a
# URL it would be the server's line limit answering, not the app).
HOSTILE_TEXTS = ("\x00", "a\x00b", "\x1b[0m", "\x85", "\u202e", "\u2028", "\ufeff", "\u2066x")
HUGE_TEXT = "x" * 20_000
HOSTILE_NUMBERS = (2**63, -(2**63) - 1, 2**64, 10**30, -(10**40))
Place = tuple[str, tuple[Any, ...]]  # a case's part (path_parameters, query, body) and where


def _places(case: Case) -> list[tuple[Place, Any]]:
    """Every text and number of a case's path, query and body, and where it is."""
    found: list[tuple[Place, Any]] = []
    for part in ("path_parameters", "query", "body"):
        stack: list[tuple[tuple[Any, ...], Any]] = [((), getattr(case, part, None))]
        while stack:
            at, value = stack.pop()
            if isinstance(value, dict):
                stack.extend(((*at, k), v) for k, v in value.items())
            elif isinstance(value, list):
                stack.extend(((*at, i), v) for i, v in enumerate(value))
            elif (at or part == "body") and (
                isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
            ):
                found.append(((part, at), value))
    return found


def _hostile_text(old: str, which: int, *, huge: bool) -> str:
    texts = (*HOSTILE_TEXTS, HUGE_TEXT) if huge else HOSTILE_TEXTS
    new = texts[which % len(texts)]
    return new if which % 3 else old + new  # sometimes after what was there


def _replaced(case: Case, part: str, at: tuple[Any, ...], new: Any) -> None:
    if not at:  # the body itself
        case.body = new
        return
    whole = copy.deepcopy(getattr(case, part))
    inner = whole
    for key in at[:-1]:
        inner = inner[key]
    inner[at[-1]] = new
    setattr(case, part, whole)


def made_hostile(case: Case, pick: int, which: int) -> Case:
    """``case`` made hostile: every text of it given a NUL, a control or a format character
    (so that no other field's refusal hides what the hub does with it), or one text or
    number replaced by a hostile one (a body object with neither gets one more member)."""
    places = _places(case)
    if not places:
        if isinstance(case.body, dict):
            case.body = {**case.body, "x": HOSTILE_TEXTS[which % len(HOSTILE_TEXTS)]}
        return case
    if pick % 2 == 0:
        for (part, at), old in places:
            if isinstance(old, str):
                _replaced(case, part, at, _hostile_text(old, which, huge=False))
        return case
    (part, at), old = places[pick % len(places)]
    if isinstance(old, str):
        new: Any = _hostile_text(old, which, huge=part == "body")
    else:
        new = HOSTILE_NUMBERS[which % len(HOSTILE_NUMBERS)]
    _replaced(case, part, at, new)
    return case


def fuzz_operation(
    schema: schemathesis.BaseSchema,
    method: str,
    path: str,
    call: Callable[[Case, int], None],
    *,
    fuzz_seed: int,
    examples: int,
    coverage_caller: int,
    hostile_examples: int = 0,
) -> None:
    """Send one operation its coverage cases (as ``coverage_caller``), then ``examples``
    generated ones, valid and invalid, each from one of ten callers, then
    ``hostile_examples`` generated ones made hostile (:func:`made_hostile`); the seed is
    fixed per operation, so every run sends the same requests."""
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
    if not hostile_examples:
        return

    @seed(fuzz_seed ^ zlib.crc32(f"hostile {method} {path}".encode()))
    @settings(
        max_examples=hostile_examples,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=st.one_of(*(operation.as_strategy(mode) for mode in MODES)),
        who=st.integers(0, 9),
        pick=st.integers(0, 1000),
        which=st.integers(0, 1000),
    )
    def fuzz_hostile(case: Case, who: int, pick: int, which: int) -> None:
        call(made_hostile(case, pick, which), who)

    fuzz_hostile()
