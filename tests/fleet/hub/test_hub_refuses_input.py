"""What the hub refuses, tried from outside over real HTTP on a real PostgreSQL (issue 25):
control and format characters in any text (names, paths, queries, reasons, forms, keys)
answer ``422`` naming the field, signed in or not, never 500; numbers and times a station
cannot store are refused at the hub, and nothing is signed or sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa

from fleet.db import HubDatabase
from fleet.screens.pages import CSRF_COOKIE
from fleet.tables import ParcelView
from tests.fleet.hub.live_hub import PASSWORD, LiveHub, form_token, live_hub

# NUL, escape, a C1 control (NEL), a bidirectional override, a zero-width no-break space,
# a line separator, an isolate: all refused. (A lone surrogate cannot be sent in UTF-8.)
HOSTILE = ["\x00", "\x1b[2J", "\x85", "\u202e", "\ufeff", "\u2028", "\u2066"]
MAX_INT = 2**63 - 1


@pytest.fixture
def hub(hub_db: HubDatabase) -> Iterator[LiveHub]:
    with live_hub(hub_db) as served:
        yield served


def refused(answer: httpx.Response, where: str) -> dict[str, Any]:
    assert answer.status_code == 422, (where, answer.status_code, answer.text)
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["code"] == "invalid_request"
    assert where in [e["where"] for e in problem["errors"]], problem
    return problem


def commands_stored(hub: LiveHub) -> int:
    with hub.db.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM commands")).scalar_one())


def test_signing_in_with_a_nul_or_an_override_is_refused_not_a_crash(hub: LiveHub) -> None:
    with hub.client() as http:
        for bad in HOSTILE:
            body = {"name": f"ol{bad}ga", "password": PASSWORD}
            refused(http.post("/api/v1/auth/token", json=body), "body.name")
            refused(http.post("/api/v1/auth/token", json={f"na{bad}me": "x"}), f"body.na{bad}me")
            data = {"name": f"ol{bad}ga", "password": PASSWORD, "form_token": form_token(http)}
            refused(http.post("/fleet/sign-in", data=data), "body.name")
        # a body without a content type is read as JSON by the routes: checked all the same
        bare = b'{"name": "ol\\u0000ga", "password": "correct horse battery"}'
        refused(http.post("/api/v1/auth/token", content=bare), "body.name")
        # a password is only hashed: whatever it holds, it is just wrong
        wrong = http.post("/api/v1/auth/token", json={"name": "olga", "password": "a\x00b"})
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "login_failed"


def test_every_path_parameter_of_the_api_refuses_them(hub: LiveHub) -> None:
    admin = hub.token("ada")
    carrier = {"Authorization": f"Bearer {hub.carrier_token}"}
    with hub.client() as http:
        document = http.get("/openapi.json").json()
        tried = 0
        for path, item in document["paths"].items():
            for method, operation in item.items():
                params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
                for name in params:
                    for bad in ("\x00", "\u202e", "\x9b"):
                        url = path
                        for other in params:
                            url = url.replace(
                                f"{{{other}}}", quote(f"a{bad}" if other == name else "a")
                            )
                        headers = carrier if path.startswith("/api/v1/carrier") else admin
                        body = {} if method == "post" else None
                        answer = http.request(method, url, headers=headers, json=body)
                        assert answer.status_code == 422, (method, url, answer.text)
                        assert f"path.{name}" in [e["where"] for e in answer.json()["errors"]]
                        tried += 1
        assert tried >= 12  # stations/{name} (three), commands/{id}, announcements/{tn}
    assert hub.sent == []


def test_a_reason_or_a_name_in_a_command_is_refused_where_it_is(hub: LiveHub) -> None:
    operator = hub.token("olga")
    with hub.client(headers=operator) as http:
        for bad in HOSTILE:
            command = {"type": "out_of_service", "args": {"compartment_id": 1, "reason": f"x{bad}"}}
            refused(http.post("/api/v1/stations/a/commands", json=command), "body.args.reason")
            command = {"type": "revoke_courier", "args": {"name": f"Ann{bad}"}}
            refused(http.post("/api/v1/stations/a/commands", json=command), "body.args.name")
            announce = {
                "carrier": "DHL",
                "tracking_number": f"T{bad}1",
                "recipient_name": "Ann",
                "size": "M",
            }
            refused(
                http.post("/api/v1/stations/a/announcements", json=announce),
                "body.tracking_number",
            )
            nested = {"type": "snapshot", "args": {"deep": [{"deeper": [f"x{bad}"]}]}}
            refused(
                http.post("/api/v1/stations/a/commands", json=nested), "body.args.deep.0.deeper.0"
            )
            refused(http.get("/api/v1/stations", params={"q": f"a{bad}"}), "query.q")
    with hub.client(headers={"Authorization": f"Bearer {hub.carrier_token}"}) as http:
        parcel = {"tracking_number": "T1", "size": "M", "recipient_name": "Ann\u202eevil"}
        refused(http.post("/api/v1/carrier/announcements", json=parcel), "body.recipient_name")
    assert hub.sent == []
    assert commands_stored(hub) == 0


def signed_in_screen(hub: LiveHub, http: httpx.Client) -> dict[str, str]:
    data = {"name": "olga", "password": PASSWORD, "form_token": form_token(http)}
    assert http.post("/fleet/sign-in", data=data).status_code == 303
    return {"HX-Request": "true", "X-CSRF-Token": http.cookies[CSRF_COOKIE]}


def test_the_screens_refuse_them_in_forms_paths_and_queries(hub: LiveHub) -> None:
    with hub.client() as http:
        headers = signed_in_screen(hub, http)
        for bad in HOSTILE:
            path = "/fleet/stations/a/compartments/1/out-of-service"
            refused(http.post(path, data={"reason": f"x{bad}"}, headers=headers), "body.reason")
            path = "/fleet/stations/a/revoke-courier"
            refused(http.post(path, data={"courier": f"A{bad}"}, headers=headers), "body.courier")
            refused(http.get(f"/fleet/stations/{quote('a' + bad)}", headers=headers), "path.name")
            refused(http.get("/fleet/rows", params={"q": bad}, headers=headers), "query.q")
        # the same forms with plain text go through
        path = "/fleet/stations/a/compartments/1/out-of-service"
        assert http.post(path, data={"reason": "broken hinge"}, headers=headers).status_code == 202
    assert [c.type for c in hub.sent] == ["out_of_service"]


@pytest.mark.parametrize(
    ("args", "where"),
    [
        ({"compartment_id": MAX_INT + 1, "reason": "x"}, "body.args.compartment_id"),
        ({"compartment_id": 10**30, "reason": "x"}, "body.args.compartment_id"),
        ({"compartment_id": -(2**63) - 1, "reason": "x"}, "body.args.compartment_id"),
        ({"compartment_id": 1e300, "reason": "x"}, "body.args.compartment_id"),
    ],
)
def test_a_number_past_what_the_station_stores_is_never_signed(
    hub: LiveHub, args: dict[str, Any], where: str
) -> None:
    with hub.client(headers=hub.token("olga")) as http:
        command = {"type": "out_of_service", "args": args}
        refused(http.post("/api/v1/stations/a/commands", json=command), where)
    assert hub.sent == []
    assert commands_stored(hub) == 0


def test_numbers_and_times_a_station_cannot_store_are_refused_and_the_rest_goes(
    hub: LiveHub,
) -> None:
    with hub.client(headers=hub.token("olga")) as http:
        cases = [
            (
                {"type": "extend", "args": {"parcel_id": 2**64, "until": "2026-12-20T18:00:00Z"}},
                "body.args.parcel_id",
            ),
            # a time without its offset, or past the year 9999 once in UTC
            (
                {"type": "extend", "args": {"parcel_id": 1, "until": "2026-12-20T18:00:00"}},
                "body.args.until",
            ),
            (
                {"type": "extend", "args": {"parcel_id": 1, "until": "9999-12-31T23:59:59-14:00"}},
                "body.args.until",
            ),
            (
                {"type": "back_in_service", "args": {"compartment_id": 2**63}},
                "body.args.compartment_id",
            ),
        ]
        for command, where in cases:
            refused(http.post("/api/v1/stations/a/commands", json=command), where)
        assert hub.sent == []
        # the largest a station stores is taken (the station answers whether it has it)
        command = {"type": "back_in_service", "args": {"compartment_id": MAX_INT}}
        assert http.post("/api/v1/stations/a/commands", json=command).status_code == 202
    with hub.client() as http:
        headers = signed_in_screen(hub, http)
        for path in (
            f"/fleet/stations/a/compartments/{MAX_INT + 1}/out-of-service",
            f"/fleet/stations/a/compartments/{10**40}/back-in-service",
            f"/fleet/stations/a/parcels/{MAX_INT + 1}/extend",
        ):
            refused(
                http.post(path, data={"reason": "x"}, headers=headers),
                "path.cid" if "compartments" in path else "path.pid",
            )
    assert [c.args for c in hub.sent] == [{"compartment_id": MAX_INT, "note": ""}]
    assert commands_stored(hub) == 1


def test_extending_a_deadline_already_at_the_end_of_time_is_refused_not_a_crash(
    hub: LiveHub,
) -> None:
    end = datetime(9999, 12, 30, tzinfo=UTC)
    with hub.db.transaction() as session:
        session.add(
            ParcelView(
                station="a",
                parcel_id=7,
                tracking_number="T7",
                carrier="DHL",
                state="stored",
                size="M",
                deadline=end,
            )
        )
    with hub.client() as http:
        headers = signed_in_screen(hub, http)
        answer = http.post("/fleet/stations/a/parcels/7/extend", headers=headers)
        assert answer.status_code == 422
        assert "cannot be moved any later" in answer.text
    assert hub.sent == []
