"""Schemathesis against the station's own OpenAPI document, over real HTTP.

The whole station runs as in the end-to-end tests (tests/api/live.py): the simulator on a
pty, the real driver, a SQLite file, uvicorn on a loopback port. Schemathesis reads
``/openapi.json`` from it and sends every operation the coverage phase's boundary cases
(valid and invalid) and then Hypothesis-generated valid and invalid requests, signed in
as the role the operation needs (one case in ten as nobody, one in ten as the wrong
role). Every answer is checked: no 5xx, the status code is documented, the body matches
its documented schema (errors too: application/problem+json with the Problem schema),
the content type is the documented one, and invalid input is refused with a 4xx.

Why not ``schemathesis.pytest.from_fixture``: with pytest 9 its lazy loader fails
(``'Function' object has no attribute '_nodeid'``), and an eager schema would need the
document before the station runs. So each operation is a test of its own, driven by
schemathesis' strategies and checks; a first test makes sure the list of operations is
exactly the document's.

Bounded for CI: FUZZ_EXAMPLES per operation by Hypothesis profile; the seed is fixed (one
per operation), so every run sends the same requests. ``LOCKER_FUZZ_EXAMPLES=500`` runs
longer, ``LOCKER_FUZZ_SEED=<n>`` explores elsewhere.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.routing import APIRoute
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from api.routes import (
    accounts,
    couriers,
    customers,
    kiosks,
    notifications,
    payments,
    people,  # a person's data: export and erasure (issue 17)
    sim,
    staff,
    system,
)
from api.routes import recipients as directory_routes  # the directory (issue 17)
from tests.hostile.fuzz_station import FuzzStation, fuzz_station
from tests.openapi_fuzzing import (
    documented,
    fuzz_operation,
    load_schema,
    no_leftover_threads,  # noqa: F401 (autouse: overrides conftest's)
)

FUZZ_EXAMPLES = {"dev": 10, "ci": 60, "thorough": 300}
SEED = int(os.environ.get("LOCKER_FUZZ_SEED", "20260701"))


def _repeats_a_single_parameter(case: Case) -> bool:
    """``?action=a&action=b`` for a parameter of one value: the last one counts (Starlette,
    as most servers); any value of it is valid, so this is not invalid input accepted."""
    single = {
        p.name for p in case.operation.query if "array" not in json.dumps(p.definition["schema"])
    }
    return any(isinstance(v, list) and k in single for k, v in (case.query or {}).items())


@schemathesis.check
def invalid_input_refused(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """``negative_data_rejection``, but for a repeated single query parameter."""
    if _repeats_a_single_parameter(case):
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    invalid_input_refused,
]
RIGHT_ROLE = 2  # see FuzzStation.headers_for


def _examples() -> int:
    explicit = os.environ.get("LOCKER_FUZZ_EXAMPLES")
    if explicit:
        return int(explicit)
    return FUZZ_EXAMPLES.get(os.environ.get("HYPOTHESIS_PROFILE", "dev"), 10)


def _operations() -> list[tuple[str, str]]:
    """Every operation of the API's routers (the simulator's included), as the document
    names them."""
    found = []
    routers = (customers, couriers, staff, accounts, kiosks, notifications, system, sim, payments)
    for module in (*routers, directory_routes, people):
        for route in module.router.routes:
            if isinstance(route, APIRoute) and route.include_in_schema:
                found.extend((method, route.path) for method in sorted(route.methods))
    return found


OPERATIONS = _operations()


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzStation]:
    """One station for the whole module; every thread it started has ended after it."""
    before = set(threading.enumerate())
    with fuzz_station(tmp_path_factory.mktemp("fuzz")) as live:
        yield live
    print("\nanswers per operation (status: count):")  # shown with -s
    for (method, path), statuses in sorted(live.answers.items(), key=lambda kv: kv[0][1]):
        print(f"  {method:6} {path:48} {dict(sorted(statuses.items()))}")
    deadline = time.monotonic() + 5.0
    while [t for t in threading.enumerate() if t not in before and t.is_alive()]:
        assert time.monotonic() < deadline, "the fuzzed station left threads running"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def api_schema(station: FuzzStation) -> schemathesis.BaseSchema:
    return load_schema(station.base_url, SEED)


def test_every_operation_of_the_document_is_fuzzed(api_schema: schemathesis.BaseSchema) -> None:
    assert documented(api_schema) == set(OPERATIONS)


def _call(station: FuzzStation, case: Case, who: int) -> None:
    try:
        response = case.call_and_validate(headers=station.headers_for(case, who), checks=CHECKS)
        station.answers[(case.method, case.path)][response.status_code] += 1
    finally:
        station.after(case)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_answers_as_documented(
    method: str, path: str, api_schema: schemathesis.BaseSchema, station: FuzzStation
) -> None:
    fuzz_operation(
        api_schema,
        method,
        path,
        lambda case, who: _call(station, case, who),
        fuzz_seed=SEED,
        examples=_examples(),
        coverage_caller=RIGHT_ROLE,
    )
