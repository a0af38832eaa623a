"""The hub's HTTP API on a real PostgreSQL: roles on every route, problems, commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from fleet import accounts, carriers, registry, sign_in_limits
from fleet.app import PUBLIC_ROUTES, NeedsRole, create_app
from fleet.carrier_api import NeedsCarrier
from fleet.db import HubDatabase
from fleet.ingest import Ingest
from fleet.settings import HubSettings
from fleet.station_backups import NeedsStation
from locker.uplink.messages import Command, CommandResult, topic
from tests.fleet.hub.support import T0, evt_topic, history

PASSWORD = "correct horse battery"  # noqa: S105
# Every route and the role it needs (None: anyone). A new route must be added here.
ROLES: dict[tuple[str, str], str | None] = {
    ("POST", "/api/v1/auth/token"): None,
    ("GET", "/docs"): None,
    ("GET", "/docs/oauth2-redirect"): None,
    ("GET", "/redoc"): None,
    ("GET", "/"): None,
    ("GET", "/favicon.ico"): None,
    ("POST", "/api/v1/accounts"): "admin",
    ("GET", "/api/v1/stations"): "operator",
    ("GET", "/api/v1/stations/{name}"): "operator",
    ("POST", "/api/v1/stations/{name}/announcements"): "operator",
    ("POST", "/api/v1/stations/{name}/commands"): "operator",
    ("GET", "/api/v1/commands/{command_id}"): "operator",
    ("GET", "/api/v1/ingest/dropped"): "admin",
    ("GET", "/api/v1/stations/{name}/backups"): "operator",
    ("GET", "/api/v1/stations/{name}/backups/{backup_id}"): "admin",
    # a station's own (fleet/station_backups.py): its broker user and password
    ("POST", "/api/v1/station/backups"): "station",
    ("PUT", "/api/v1/station/backup-chunk"): "station",
    ("POST", "/api/v1/station/backups/{backup_id}/complete"): "station",
    # carriers (fleet/carrier_api.py): a carrier's bearer token, not an operator's
    ("GET", "/api/v1/carrier/stations"): "carrier",
    ("POST", "/api/v1/carrier/announcements"): "carrier",
    ("GET", "/api/v1/carrier/announcements"): "carrier",
    ("GET", "/api/v1/carrier/announcements/{tracking_number}"): "carrier",
}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Hub:
    def __init__(self, db: HubDatabase) -> None:
        self.db = db
        self.clock = Clock()
        self.sent: list[Command] = []
        self.app = create_app(db, HubSettings(token_hours=1), self.sent.append, self.clock)
        self.http = TestClient(self.app, raise_server_exceptions=False)
        self.keys: dict[str, bytes] = {}
        self.station_auth: dict[str, tuple[str, str]] = {}
        for name in ("a", "b"):
            creds = registry.add_station(db, name, T0)
            self.keys[name] = bytes.fromhex(creds.command_key)
            self.station_auth[name] = (creds.broker_user, creds.broker_password)
        for name, role in (("olga", "operator"), ("ada", "admin")):
            accounts.add_operator(db, name, PASSWORD, role, T0)  # type: ignore[arg-type]
        made = carriers.add_carrier(db, "Parcel Co", ["a"], "", T0)
        self.carrier = {"Authorization": f"Bearer {made.token}"}

    def token(self, name: str) -> dict[str, str]:
        answer = self.http.post("/api/v1/auth/token", json={"name": name, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.fixture
def hub(hub_db: HubDatabase) -> Iterator[Hub]:
    hub = Hub(hub_db)
    yield hub
    hub.http.close()


def is_problem(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(code)
    assert body["detail"]
    return body


def roles_declared(route: APIRoute) -> set[str]:
    found: set[str] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, NeedsRole | NeedsCarrier | NeedsStation):
            found.add(dep.call.role)
        stack.extend(dep.dependencies)
    return found


def concrete(path: str) -> str:
    return (
        path.replace("{name}", "a")
        .replace("{command_id}", "c0ffee00")
        .replace("{tracking_number}", "T1")
        .replace("{backup_id}", "b0")
    )


def test_every_route_declares_the_role_it_needs(hub: Hub) -> None:
    # every route of the app, those of included routers too (the carriers', screens')
    contexts = [c for c in iter_route_contexts(hub.app.routes)]
    routes = [(c.path, c.original_route) for c in contexts]
    seen = {(m, path): r for path, r in routes if isinstance(r, APIRoute) for m in r.methods}
    assert set(seen) == set(ROLES)
    for key, route in seen.items():
        needed = ROLES[key]
        assert roles_declared(route) == (set() if needed is None else {needed}), key
        assert (key in PUBLIC_ROUTES) == (needed is None)


@pytest.mark.parametrize(("method", "path"), [k for k, v in ROLES.items() if v])
def test_every_protected_route_refuses_without_a_token_or_with_too_low_a_role(
    hub: Hub, method: str, path: str
) -> None:
    url = concrete(path)
    is_problem(hub.http.request(method, url, json={}), 401, "not_authenticated")
    bogus = {"Authorization": "Bearer hub_not-a-token"}
    is_problem(hub.http.request(method, url, json={}, headers=bogus), 401, "not_authenticated")
    operator, admin = hub.token("olga"), hub.token("ada")
    answer = hub.http.request(method, url, json={}, headers=operator)
    needed = ROLES[(method, path)]
    if needed == "station":  # no bearer token is a station's; its broker password is
        for other in (operator, admin, hub.carrier):
            refused = hub.http.request(method, url, json={}, headers=other)
            is_problem(refused, 401, "not_authenticated")
        user, _ = hub.station_auth["a"]
        wrong = hub.http.request(method, url, json={}, auth=(user, "not its password"))
        is_problem(wrong, 401, "not_authenticated")
        other_station = hub.http.request(method, url, json={}, auth=hub.station_auth["b"])
        assert other_station.status_code not in (401, 403), other_station.text
        return
    if needed == "carrier":  # an operator's token is no carrier's, and the other way round
        for staff in (operator, admin):
            is_problem(
                hub.http.request(method, url, json={}, headers=staff), 401, "not_authenticated"
            )
        answer = hub.http.request(method, url, json={}, headers=hub.carrier)
        assert answer.status_code not in (401, 403), answer.text
        return
    carrier = hub.http.request(method, url, json={}, headers=hub.carrier)
    is_problem(carrier, 401, "not_authenticated")
    if needed == "admin":
        is_problem(answer, 403, "forbidden")
    else:
        assert answer.status_code not in (401, 403), answer.text
    assert hub.http.request(method, url, json={}, headers=admin).status_code not in (401, 403)


def test_a_wrong_password_or_an_unknown_name_is_the_same_refusal(hub: Hub) -> None:
    for name, password in (("olga", "wrong password"), ("nobody", PASSWORD)):
        body = {"name": name, "password": password}
        is_problem(hub.http.post("/api/v1/auth/token", json=body), 401, "login_failed")


def test_a_token_ends(hub: Hub) -> None:
    headers = hub.token("olga")
    assert hub.http.get("/api/v1/stations", headers=headers).status_code == 200
    hub.clock.now += timedelta(hours=1)
    is_problem(hub.http.get("/api/v1/stations", headers=headers), 401, "not_authenticated")


def test_the_fleet_and_one_station_as_the_events_left_them(hub: Hub) -> None:
    ingest = Ingest(hub.db)
    for e in history("a"):
        ingest.handle(evt_topic("a"), e.payload(), T0)
    headers = hub.token("olga")
    fleet = hub.http.get("/api/v1/stations", headers=headers).json()
    assert [s["name"] for s in fleet] == ["a", "b"]
    a = fleet[0]
    assert a["parcels"] == {"stored": 1, "announced": 1}
    assert (a["open_alerts"], a["free"], a["online"]) == (1, {"S": 1, "M": 0, "L": 1}, False)
    assert a["bus"] == {"bus0": {"frames": 240, "timeouts": 2}}
    assert (a["events_applied"], a["events_behind"]) == (21, 0)
    assert a["last_seen"] == "2026-11-02T08:00:00Z"
    assert fleet[1]["parcels"] == {}
    detail = hub.http.get("/api/v1/stations/a", headers=headers).json()
    assert [c["state"] for c in detail["compartments"]] == ["free", "occupied", "out_of_service"]
    assert [(p["id"], p["state"]) for p in detail["live_parcels"]] == [
        (10, "stored"),
        (11, "announced"),
    ]
    assert [al["kind"] for al in detail["alerts"]] == ["board_gone"]
    assert [e["seq"] for e in detail["recent_events"]][:3] == [21, 20, 19]
    text = hub.http.get("/api/v1/stations/a", headers=headers).text.lower()
    assert "pin" not in text
    assert "qr" not in text
    is_problem(hub.http.get("/api/v1/stations/zz", headers=headers), 404, "station_not_found")


def test_an_announcement_is_a_signed_command_published_after_it_is_stored(hub: Hub) -> None:
    headers = hub.token("olga")
    body = {
        "recipient_name": "Ann Example",
        "recipient_email": "ann@example.org",
        "size": "M",
        "carrier": "DHL",
        "tracking_number": "TRK1",
    }
    answer = hub.http.post("/api/v1/stations/a/announcements", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    out = answer.json()
    assert (out["type"], out["state"], out["by"], out["station"]) == (
        "announce",
        "sent",
        "olga",
        "a",
    )
    [sent] = hub.sent
    assert sent.id == out["id"]
    assert sent.verify(hub.keys["a"])
    assert not sent.verify(hub.keys["b"])
    assert sent.args == {**body, "accessible": False}
    seen = hub.http.get(f"/api/v1/commands/{sent.id}", headers=headers).json()
    assert seen == out
    done = CommandResult(command_id=sent.id, station="a", ok=True, result={"parcel_id": 4}, at=T0)
    Ingest(hub.db).handle(topic("a", "res"), done.payload(), T0)
    seen = hub.http.get(f"/api/v1/commands/{sent.id}", headers=headers).json()
    assert (seen["state"], seen["result"], seen["problem"]) == ("ok", {"parcel_id": 4}, None)


COMMANDS = [
    ("extend", {"tracking_number": "TRK1", "until": "2026-11-20T18:00:00Z"}),
    ("extend", {"parcel_id": 4, "until": "2026-11-20T18:00:00Z"}),
    ("out_of_service", {"compartment_id": 3, "reason": "the hinge is loose"}),
    ("back_in_service", {"compartment_id": 3, "note": "mended"}),
    ("revoke_courier", {"name": "dhl-7"}),
    ("snapshot", {}),
]


@pytest.mark.parametrize(("kind", "args"), COMMANDS)
def test_each_command_is_stored_signed_and_published(
    hub: Hub, kind: str, args: dict[str, Any]
) -> None:
    headers = hub.token("olga")
    body = {"type": kind, "args": args}
    answer = hub.http.post("/api/v1/stations/b/commands", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    [sent] = hub.sent
    assert (sent.type, sent.station, sent.id) == (kind, "b", answer.json()["id"])
    assert sent.verify(hub.keys["b"])
    assert sent.args.keys() == args.keys()


@pytest.mark.parametrize("kind", ["open", "open_door", "open_all", "unlock", "resend"])
def test_no_command_opens_a_door_and_the_api_says_so(hub: Hub, kind: str) -> None:
    headers = hub.token("ada")
    body = {"type": kind, "args": {"compartment_id": 1}}
    answer = hub.http.post("/api/v1/stations/a/commands", json=body, headers=headers)
    problem = is_problem(answer, 422, "unknown_command")
    assert "No command opens a door" in problem["detail"]
    assert hub.sent == []
    assert hub.http.get("/docs").status_code == 200
    schema = hub.http.get("/openapi.json").json()
    assert "No command opens a door" in str(schema["components"]["schemas"]["CommandRequest"])


def test_bad_arguments_are_named(hub: Hub) -> None:
    headers = hub.token("olga")
    cases = [
        ({"type": "out_of_service", "args": {"reason": "x"}}, "body.args.compartment_id"),
        ({"type": "extend", "args": {"until": "2026-11-20T18:00:00Z"}}, "body.args"),
        ({"type": "snapshot", "args": {"pin": "1234"}}, "body.args.pin"),
        # the station's own rules for a command's arguments (locker/uplink/command_args.py):
        # the hub signs nothing the station would refuse for its form
        (
            {"type": "out_of_service", "args": {"compartment_id": 0, "reason": "x"}},
            "body.args.compartment_id",
        ),
        ({"type": "revoke_courier", "args": {"name": "   "}}, "body.args.name"),
    ]
    for body, where in cases:
        answer = hub.http.post("/api/v1/stations/a/commands", json=body, headers=headers)
        problem = is_problem(answer, 422, "invalid_request")
        assert where in [e["where"] for e in problem["errors"]], problem
    answer = hub.http.post(
        "/api/v1/stations/zz/commands", json={"type": "snapshot"}, headers=headers
    )
    is_problem(answer, 404, "station_not_found")
    is_problem(hub.http.get("/api/v1/commands/nope", headers=headers), 404, "command_not_found")
    is_problem(hub.http.get("/api/v1/nowhere", headers=headers), 404, "not_found")
    assert hub.sent == []


def test_an_admin_adds_accounts(hub: Hub) -> None:
    body = {"name": "neo", "password": PASSWORD, "role": "operator"}
    answer = hub.http.post("/api/v1/accounts", json=body, headers=hub.token("ada"))
    assert answer.status_code == 201, answer.text
    assert hub.token("neo")
    again = hub.http.post("/api/v1/accounts", json=body, headers=hub.token("ada"))
    is_problem(again, 409, "account_exists")
    weak = {**body, "name": "trin", "password": "short"}
    is_problem(
        hub.http.post("/api/v1/accounts", json=weak, headers=hub.token("ada")),
        422,
        "weak_password",
    )


def test_the_dropped_counts_are_shown_to_admins(hub: Hub) -> None:
    Ingest(hub.db).handle(evt_topic("a"), b"nonsense", T0)
    answer = hub.http.get("/api/v1/ingest/dropped", headers=hub.token("ada"))
    assert answer.json() == {"not_json": 1}


def test_wrong_passwords_for_a_name_bring_growing_waits(hub: Hub) -> None:
    def sign_in(name: str, password: str) -> Any:
        return hub.http.post("/api/v1/auth/token", json={"name": name, "password": password})

    for name in ("olga", "nobody"):  # an unknown name is counted alike
        for _ in range(sign_in_limits.FREE_PER_NAME):
            is_problem(sign_in(name, "wrong password"), 401, "login_failed")
        refused = sign_in(name, PASSWORD)  # now even the right one waits
        body = is_problem(refused, 429, "too_many_attempts")
        assert refused.headers["Retry-After"] == str(body["retry_after"]) == "30"
    hub.clock.now += timedelta(seconds=29)
    is_problem(sign_in("olga", PASSWORD), 429, "too_many_attempts")
    hub.clock.now += timedelta(seconds=1)
    assert sign_in("olga", PASSWORD).status_code == 200  # and it clears the count
    for _ in range(sign_in_limits.FREE_PER_NAME):
        is_problem(sign_in("olga", "wrong password"), 401, "login_failed")
    assert hub.token("ada")  # another name is not held up
    # The waits double: 30 s after the 5th wrong one, 60 s after the 6th.
    hub.clock.now += timedelta(seconds=30)
    is_problem(sign_in("nobody", "wrong again"), 401, "login_failed")
    assert sign_in("nobody", PASSWORD).json()["retry_after"] == 60
