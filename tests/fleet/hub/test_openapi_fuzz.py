"""Schemathesis against the hub's own OpenAPI document, over real HTTP, with a real
PostgreSQL behind it (as tests/hostile/test_openapi_fuzz.py does for the station).

The hub (``fleet.app.create_app``: the operators' API and the carriers') is served by
uvicorn on a loopback port; its commands are kept, not published. Every operation gets
schemathesis' coverage cases and Hypothesis-generated valid and invalid requests, signed
in as the role its route declares (one case in ten as nobody, one in ten with another
role's token). Every answer is checked: no 5xx, a documented status code, a body of the
documented schema (problems too), the documented content type, invalid input refused.
Bounded for CI: FUZZ_EXAMPLES per operation by Hypothesis profile, fixed seeds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from fastapi.routing import APIRoute, iter_route_contexts
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from api.threaded import served
from fleet import accounts, carriers, registry
from fleet.app import NeedsRole, create_app
from fleet.carrier_api import NeedsCarrier
from fleet.db import HubDatabase
from fleet.settings import HubSettings
from locker.uplink.messages import Command
from tests.fleet.engines import PgDatabase
from tests.openapi_fuzzing import (
    documented,
    fuzz_operation,
    load_schema,
    no_leftover_threads,  # noqa: F401 (autouse: overrides conftest's)
)

FUZZ_EXAMPLES = {"dev": 5, "ci": 5, "thorough": 200}
# Generated requests made hostile per operation (NUL, control and format characters, huge
# texts and numbers: tests/openapi_fuzzing.py's made_hostile), beside the plain ones.
HOSTILE_EXAMPLES = {"dev": 15, "ci": 15, "thorough": 300}
SEED = int(os.environ.get("LOCKER_FUZZ_SEED", "20261204"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
PASSWORD = "correct horse battery"  # noqa: S105
OTHER = {"operator": "carrier", "admin": "operator", "carrier": "admin", None: "carrier"}


def _role(route: APIRoute) -> str | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, NeedsRole | NeedsCarrier):
            return dep.call.role
        stack.extend(dep.dependencies)
    return None


def _routes() -> dict[tuple[str, str], str | None]:
    app = create_app(None, HubSettings(_env_file=None), lambda _c: None)  # type: ignore[arg-type,call-arg]
    found: dict[tuple[str, str], str | None] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema and context.path:
            for method in sorted(route.methods):
                found[(method, context.path)] = _role(route)
    return found


ROUTES = _routes()
OPERATIONS = sorted(ROUTES)


@dataclass
class FuzzHub:
    base_url: str
    tokens: dict[str, str]
    sent: list[Command] = field(default_factory=list)

    def headers(self, method: str, path: str, who: int) -> dict[str, str]:
        right = ROUTES[(method, path)]
        if who == 0:
            return {}
        role = OTHER[right] if who == 1 else right
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}


@pytest.fixture(scope="module")
def fuzz_hub(pg_server: Any) -> Iterator[FuzzHub]:
    name = "fuzz_" + os.urandom(4).hex()
    pg_server.create_database(name)
    db = HubDatabase(PgDatabase(pg_server, name).url)
    db.upgrade()
    now = datetime.now(UTC)
    for station in ("a", "b"):
        registry.add_station(db, station, now)
        carriers.set_place(db, station, address="Hauptstr. 1", postcode="10115")
    accounts.add_operator(db, "olga", PASSWORD, "operator", now)
    accounts.add_operator(db, "ada", PASSWORD, "admin", now)
    made = carriers.add_carrier(db, "Parcel Co", ["a", "b"], "", now)
    tokens = {"carrier": made.token}
    sent: list[Command] = []
    app = create_app(db, HubSettings(_env_file=None), sent.append)  # type: ignore[call-arg]
    for role, who in (("operator", "olga"), ("admin", "ada")):
        tokens[role] = accounts.login(db, who, PASSWORD, now, timedelta(days=1))
    with served(app) as base_url:
        yield FuzzHub(base_url, tokens, sent)
    db.close()


@pytest.fixture(scope="module")
def api_schema(fuzz_hub: FuzzHub) -> schemathesis.BaseSchema:
    return load_schema(fuzz_hub.base_url, SEED)


def test_every_operation_of_the_document_is_fuzzed(api_schema: schemathesis.BaseSchema) -> None:
    assert documented(api_schema) == set(OPERATIONS)


def _examples(table: dict[str, int] = FUZZ_EXAMPLES) -> int:
    return table.get(os.environ.get("HYPOTHESIS_PROFILE", "dev"), table["dev"])


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_answers_as_documented(
    method: str, path: str, api_schema: schemathesis.BaseSchema, fuzz_hub: FuzzHub
) -> None:
    def call(case: Case, who: int) -> None:
        case.call_and_validate(headers=fuzz_hub.headers(method, path, who), checks=CHECKS)

    fuzz_operation(
        api_schema,
        method,
        path,
        call,
        fuzz_seed=SEED,
        examples=_examples(),
        coverage_caller=2,
        hostile_examples=_examples(HOSTILE_EXAMPLES),
    )
