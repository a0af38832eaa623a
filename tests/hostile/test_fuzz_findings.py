"""What schemathesis found, kept as plain tests against a live station over HTTP:

* error answers were documented as FastAPI's ``application/json`` validation error (422)
  or not at all (400 for a body that is not JSON, 401/403 of sign-in, 429 of sign-in
  attempts), though every error is ``application/problem+json``;
* the API accepted what its document refuses: a number of seconds for an ISO 8601 time
  (``since=0``), and strings for JSON booleans and integers (``"new_secret": "0"``,
  ``"width_mm": "10"``), read by pydantic's lax mode as false and 10.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.http_helpers import problem
from tests.hostile.fuzz_station import FuzzStation, fuzz_station

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[FuzzStation]:
    with fuzz_station(tmp_path) as station:
        yield station


def _client(live: FuzzStation, role: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {live.tokens[role]}"} if role else {}
    return httpx.Client(base_url=live.base_url, headers=headers, timeout=30)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_every_error_answer_is_documented_as_a_problem(live: FuzzStation) -> None:
    with _client(live) as client:
        document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "code",
        "detail",
    ]
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        errors = {s: r for s, r in responses.items() if int(s) >= 400}
        if (method, path) != ("GET", "/healthz"):  # its 503 is the health report itself
            assert all(r["content"] == PROBLEM for r in errors.values()), (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(errors), (method, path)
        if operation.get("security"):
            assert {"401", "403"} <= set(errors), (method, path)
    sign_in = document["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert {"401", "429"} <= set(sign_in)


def test_a_body_that_is_not_json_is_a_documented_problem(live: FuzzStation) -> None:
    with _client(live) as client:
        answer = client.post(
            "/api/v1/collect", content=b"\xff\xfe{", headers={"content-type": "application/json"}
        )
    problem(answer, 400, "invalid_request")


def test_a_time_must_be_iso_8601_not_seconds_since_1970(live: FuzzStation) -> None:
    with _client(live, "staff") as staff:
        for since in ("0", "1700000000", "1.5e9"):
            problem(staff.get("/api/v1/audit", params={"since": since}), 422, "invalid_request")
        assert staff.get("/api/v1/audit", params={"since": "2026-07-01T12:00:00Z"}).is_success
        extend = staff.post("/api/v1/parcels/1/extend", json={"until": 1893456000})
        problem(extend, 422, "invalid_request")


def test_json_booleans_and_numbers_are_not_read_from_strings(live: FuzzStation) -> None:
    with _client(live, "admin") as admin:
        for secret in ("0", "true", 1):
            answer = admin.put("/api/v1/carriers/Parcel Co", json={"new_secret": secret})
            problem(answer, 422, "invalid_request")
        assert admin.put("/api/v1/carriers/Parcel Co", json={"new_secret": True}).is_success
    parcel = {"tracking_number": "T1", "recipient_name": "Ada"}
    with _client(live, "courier") as courier:
        for wrong in (
            {"size": "S", "needs_accessible": "yes"},
            {"dimensions": {"width_mm": "10", "height_mm": 10, "depth_mm": 10}},
            {"size": "S", "reserve": "1"},
        ):
            problem(courier.post("/api/v1/parcels", json=parcel | wrong), 422, "invalid_request")
        problem(courier.post("/api/v1/deposits", json={"parcel_id": "1"}), 422, "invalid_request")
        dims = {"width_mm": 10, "height_mm": 10, "depth_mm": 10}
        made = courier.post("/api/v1/parcels", json=parcel | {"dimensions": dims})
        assert made.status_code == 201, made.text
    with _client(live, "staff") as staff:
        days = staff.post(f"/api/v1/parcels/{made.json()['id']}/extend", json={"days": "2"})
        problem(days, 422, "invalid_request")
