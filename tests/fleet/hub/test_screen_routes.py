"""The operators' screen (fleet/screens): every route declares the role it needs, refuses
without a session or without the CSRF header, and every word has English and German."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from fleet import accounts
from fleet.app import create_app
from fleet.db import HubDatabase
from fleet.screens.i18n import TEXTS
from fleet.screens.pages import CSRF_COOKIE, PUBLIC_SCREEN_ROUTES, SESSION_COOKIE, ScreenRole
from fleet.settings import HubSettings
from tests.fleet.hub.support import T0, form_token

PASSWORD = "correct horse battery"  # noqa: S105
ADMIN_ONLY = {
    ("GET", "/grants"),
    ("POST", "/grants"),
    ("GET", "/grants/list"),
    ("POST", "/grants/{grant_id}/revoke"),
    ("GET", "/stations/{name}/backups/{backup_id}"),  # a station's backup, downloaded
}


@pytest.fixture
def http(hub_db: HubDatabase) -> Iterator[TestClient]:
    app = create_app(hub_db, HubSettings(_env_file=None), lambda _c: None, lambda: T0)  # type: ignore[call-arg]
    for name, role in (("olga", "operator"), ("ada", "admin")):
        accounts.add_operator(hub_db, name, PASSWORD, role, T0)  # type: ignore[arg-type]
    with TestClient(app, base_url="http://hub") as client:
        yield client


def screen_routes(http: TestClient) -> dict[tuple[str, str], APIRoute]:
    mount = next(r for r in http.app.routes if isinstance(r, Mount) and r.path == "/fleet")  # type: ignore[attr-defined]
    return {(m, r.path): r for r in mount.routes if isinstance(r, APIRoute) for m in r.methods}


def roles(route: APIRoute) -> set[str]:
    return {d.call.role for d in route.dependant.dependencies if isinstance(d.call, ScreenRole)}


def test_every_screen_route_declares_its_role(http: TestClient) -> None:
    for key, route in screen_routes(http).items():
        if key in PUBLIC_SCREEN_ROUTES:
            assert roles(route) == set(), key
        else:
            assert roles(route) == {"admin" if key in ADMIN_ONLY else "operator"}, key


def sign_in(http: TestClient, name: str) -> None:
    data = {"name": name, "password": PASSWORD, "form_token": form_token(http)}
    answer = http.post("/fleet/sign-in", data=data, follow_redirects=False)
    assert answer.status_code == 303


def test_without_a_session_a_role_or_the_csrf_header_nothing_is_done(http: TestClient) -> None:
    path = "/fleet/stations/a/revoke-courier"
    htmx = {"HX-Request": "true"}
    assert http.post(path, data={"courier": "x"}, headers=htmx).headers["HX-Redirect"] == "/fleet/"
    assert http.get("/fleet/rows", follow_redirects=False).status_code == 303
    sign_in(http, "olga")
    assert http.get("/fleet/rows").status_code == 200
    # a change without the CSRF header (a cross-site form cannot send it) is refused
    answer = http.post(path, data={"courier": "x"}, headers=htmx)
    assert answer.status_code == 401
    csrf = http.cookies[CSRF_COOKIE]
    assert csrf != http.cookies[SESSION_COOKIE]
    # an operator is no admin
    assert http.get("/fleet/grants", follow_redirects=False).status_code == 303
    answer = http.post(
        "/fleet/grants",
        data={"operator": "olga", "station": "a"},
        headers={**htmx, "X-CSRF-Token": csrf},
    )
    assert answer.status_code == 401
    page = http.get("/fleet/")
    assert "Content-Security-Policy" in page.headers
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_a_compartment_or_parcel_number_below_one_is_refused_not_a_crash(
    http: TestClient,
) -> None:
    sign_in(http, "olga")
    headers = {"HX-Request": "true", "X-CSRF-Token": http.cookies[CSRF_COOKIE]}
    for path in (
        "/fleet/stations/a/compartments/0/out-of-service",
        "/fleet/stations/a/compartments/-3/back-in-service",
        "/fleet/stations/a/parcels/0/extend",
    ):
        assert http.post(path, data={"reason": "x"}, headers=headers).status_code == 422, path


def test_every_word_of_the_screen_has_english_and_german() -> None:
    for key, (english, german) in TEXTS.items():
        assert english.strip(), key
        assert german.strip(), key
