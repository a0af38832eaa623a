"""Bad input through HTTP: every error is a problem document with a stable code, and input
out of range, odd or oversized is refused, never a crash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.api.http_helpers import (
    API,
    ok,
    parcel,
    problem,
    store,
)
from tests.api.live import live_station


def test_errors_are_problem_documents(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
        live.client(None) as anyone,
    ):
        problem(anyone.get(f"{API}/nothing-here"), 404, "not_found")
        problem(anyone.get("/nothing-here"), 404, "not_found")
        problem(courier.get(f"{API}/parcels/1/nothing"), 404, "not_found")
        problem(anyone.put(f"{API}/collect", json={"code": "x"}), 405, "method_not_allowed")
        problem(staff.delete(f"{API}/compartments"), 405, "method_not_allowed")

        def invalid(answer: httpx.Response) -> list[dict[str, str]]:
            body = problem(answer, 422, "invalid_request")
            errors: list[dict[str, str]] = body["errors"]
            assert errors, body
            assert all(set(e) == {"where", "problem"} for e in errors), errors
            return errors

        deposits = f"{API}/deposits"
        errors = invalid(courier.post(deposits, json={}))
        assert any("parcel_id or parcel" in e["problem"] for e in errors), errors
        invalid(courier.post(deposits, json={"parcel_id": 1, "parcel": parcel()}))
        invalid(courier.post(deposits, json={"parcel_id": 0}))
        errors = invalid(courier.post(deposits, json={"parcel": parcel(size=None)}))
        assert any("size class or its dimensions" in e["problem"] for e in errors), errors
        errors = invalid(courier.post(deposits, json={"parcel": parcel(size="XXL")}))
        assert any(e["where"] == "body.parcel.size" for e in errors), errors
        invalid(courier.post(deposits, json={"parcel": parcel(email="not-an-address")}))
        invalid(courier.post(deposits, json={"parcel": parcel(dims=(0, 10, 10), size=None)}))
        invalid(courier.post(deposits, json={"parcel": {**parcel(), "colour": "red"}}))
        invalid(courier.post(deposits, json={"parcel": {**parcel(), "tracking_number": ""}}))
        invalid(
            courier.post(
                deposits, content=b"{not json", headers={"Content-Type": "application/json"}
            )
        )
        invalid(courier.post(deposits, content=b"", headers={"Content-Type": "application/json"}))
        invalid(courier.get(f"{API}/parcels/0"))
        invalid(courier.get(f"{API}/parcels/one"))
        invalid(anyone.post(f"{API}/collect", json={}))
        invalid(anyone.post(f"{API}/collect", json={"code": ""}))
        invalid(anyone.post(f"{API}/collect", json={"code": "x" * 201}))
        invalid(staff.get(f"{API}/audit", params={"parcel": "x"}))
        # nothing was created or opened by any of this
        assert ok(staff.get(f"{API}/parcels")) == []
        assert all(live.sim.pulses(cid) == 0 for cid in range(1, 13))
        problem(courier.get(f"{API}/parcels/9999"), 404, "parcel_not_found")


def test_out_of_range_odd_and_oversized_input_is_refused_never_a_crash(tmp_path: Path) -> None:
    huge = 2**70  # bigger than any SQLite integer
    far = "9999-12-31T23:59:59-14:00"  # past the year 9999 once in UTC
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
        live.client("admin") as admin,
        live.client(None) as anyone,
    ):
        stored = store(live, courier, tracking="RANGE")
        extend = f"{API}/parcels/{stored.id}/extend"
        refused = [
            courier.get(f"{API}/parcels/{huge}"),
            courier.post(f"{API}/deposits", json={"parcel_id": huge}),
            courier.post(f"{API}/parcels/{huge}/confirm"),
            staff.post(f"{API}/compartments/{huge}/out-of-service", json={"reason": "x"}),
            staff.get(f"{API}/parcels", params={"offset": huge}),
            staff.get(f"{API}/parcels", params={"compartment": huge}),
            staff.get(f"{API}/audit", params={"parcel": huge}),
            staff.get(f"{API}/audit", params={"before": huge}),
            staff.get(f"{API}/audit", params={"since": far}),
            staff.get(f"{API}/audit", params={"until": "0001-01-01T00:00:00+14:00"}),
            staff.post(extend, json={"until": far}),
            admin.post(f"{API}/accounts/{huge}/deactivate"),
            staff.post(f"{API}/sim/doors/{huge}/close"),
        ]
        for answer in refused:
            problem(answer, 422, "invalid_request")

        # a deadline far ahead is refused by the station, not by an overflow later
        problem(
            staff.post(extend, json={"until": "9999-12-31T23:59:59Z"}), 409, "invalid_transition"
        )
        ok(staff.post(extend, json={"days": 90}))

        # a body that is not UTF-8 is an invalid request like any malformed JSON
        bad_bytes = anyone.post(
            f"{API}/collect",
            content=b'{"code": "\xff\xfe"}',
            headers={"Content-Type": "application/json"},
        )
        assert bad_bytes.status_code in (400, 422), bad_bytes.text
        problem(bad_bytes, bad_bytes.status_code, "invalid_request")

        # a huge body is refused before it is read, with or without a declared length
        big = b'{"code": "' + b"1" * 100_000 + b'"}'
        problem(
            anyone.post(
                f"{API}/collect", content=big, headers={"Content-Type": "application/json"}
            ),
            413,
            "request_too_large",
        )

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(big), 8192):
                yield big[start : start + 8192]

        streamed = anyone.post(
            f"{API}/collect", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert "content-length" not in streamed.request.headers
        problem(streamed, 413, "request_too_large")

        # staff see every carrier's parcels: a staff account cannot be tied to one
        problem(
            admin.post(
                f"{API}/accounts", json={"name": "eve", "role": "staff", "carrier": "Parcel Co"}
            ),
            409,
            "invalid_transition",
        )
        # the station still works, and nothing was opened by any of it
        assert ok(staff.get(f"{API}/parcels/{stored.id}"))["state"] == "stored"
        assert ok(anyone.get("/healthz"))
        assert live.sim.pulses(stored.compartment_id) == 1  # its deposit, nothing more
