"""The operators' screen against other sites, and the hub over HTTPS, tried over real HTTP
(issue 25): a sign-in form posted from elsewhere is refused (its own CSRF value, Origin,
Sec-Fetch-Site), as is any change from another site; served over HTTPS (by the setting,
on by default off loopback, or over TLS itself) every answer has HSTS and every cookie is
``Secure``."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fleet.db import HubDatabase
from fleet.guard import https_by_default
from fleet.screens.pages import CSRF_COOKIE, SESSION_COOKIE
from fleet.settings import HubSettings
from tests.fleet.hub.live_hub import PASSWORD, LiveHub, form_token, live_hub
from tests.tls_support import make_pki

EVIL = "https://evil.example"


@pytest.fixture
def hub(hub_db: HubDatabase) -> Iterator[LiveHub]:
    with live_hub(hub_db) as served:
        yield served


def cookies_set(answer: httpx.Response) -> dict[str, str]:
    """Each cookie the answer sets and its attributes (as the header gives them)."""
    return {c.split("=", 1)[0]: c for c in answer.headers.get_list("set-cookie")}


def post_sign_in(http: httpx.Client, token: str, **headers: str) -> httpx.Response:
    data = {"name": "olga", "password": PASSWORD, "form_token": token}
    return http.post("/fleet/sign-in", data=data, headers=headers)


def test_a_sign_in_posted_from_another_site_is_refused(hub: LiveHub) -> None:
    # an old browser that says nothing of where a post comes from: the attacker's page
    # cannot know the form's value, nor make the browser send the form's cookie
    with hub.client() as http:
        answer = post_sign_in(http, "")
        assert answer.status_code == 403
        assert SESSION_COOKIE not in cookies_set(answer)
        answer = post_sign_in(http, "guessed-value-of-43-characters-xxxxxxxxxxxxx")
        assert answer.status_code == 403
        assert SESSION_COOKIE not in cookies_set(answer)
    # a browser that says it: refused even if the form's value were known
    for headers in (
        {"Origin": EVIL},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling host is another site too
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    ):
        with hub.client() as http:
            answer = post_sign_in(http, form_token(http), **headers)
            assert answer.status_code == 403, headers
            assert SESSION_COOKIE not in cookies_set(answer), headers
    # the hub's own page, as a browser sends it
    with hub.client() as http:
        own = {"Origin": hub.base_url, "Sec-Fetch-Site": "same-origin"}
        answer = post_sign_in(http, form_token(http), **own)
        assert answer.status_code == 303
        assert SESSION_COOKIE in cookies_set(answer)


def test_a_change_from_another_site_is_refused_even_with_the_session(hub: LiveHub) -> None:
    with hub.client() as http:
        assert post_sign_in(http, form_token(http)).status_code == 303
        headers = {"HX-Request": "true", "X-CSRF-Token": http.cookies[CSRF_COOKIE]}
        path = "/fleet/stations/a/compartments/1/out-of-service"
        for where in ({"Origin": EVIL}, {"Sec-Fetch-Site": "cross-site"}):
            answer = http.post(path, data={"reason": "x"}, headers={**headers, **where})
            assert answer.status_code == 403, where
        assert hub.sent == []
        answer = http.post(path, data={"reason": "x"}, headers={**headers, "Origin": hub.base_url})
        assert answer.status_code == 202
    assert [c.type for c in hub.sent] == ["out_of_service"]


def sign_in_answer(hub: LiveHub) -> tuple[httpx.Response, httpx.Response]:
    """The sign-in page and the answer to signing in (its cookies)."""
    with hub.client() as http:
        page = http.get("/fleet/")
        token = form_token(http)
        data = {"name": "olga", "password": PASSWORD, "form_token": token}
        http.cookies.set("hub_sign_in", token)  # sent back even if it came Secure over http
        return page, http.post("/fleet/sign-in", data=data)


def test_on_loopback_without_tls_there_is_no_hsts_and_no_secure_flag(hub: LiveHub) -> None:
    page, signed_in = sign_in_answer(hub)
    assert signed_in.status_code == 303
    for answer in (page, signed_in):
        assert "strict-transport-security" not in answer.headers
        assert all("secure" not in c.lower() for c in cookies_set(answer).values())


def test_off_loopback_by_default_every_answer_has_hsts_and_cookies_are_secure(
    hub_db: HubDatabase,
) -> None:
    settings = HubSettings(_env_file=None, http_host="0.0.0.0")  # type: ignore[call-arg]  # noqa: S104
    assert https_by_default(settings)
    with live_hub(hub_db, settings) as hub:
        page, signed_in = sign_in_answer(hub)
        assert signed_in.status_code == 303
        with hub.client() as http:
            others = [
                http.get("/openapi.json"),
                http.get("/api/v1/stations"),  # 401
                http.post("/api/v1/auth/token", content=b"x" * 70_000),  # 413, before any route
            ]
        assert [a.status_code for a in others] == [200, 401, 413]
        for answer in (page, signed_in, *others):
            assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
        cookies = cookies_set(signed_in)
        assert {SESSION_COOKIE, CSRF_COOKIE} <= set(cookies)
        for cookie in (*cookies.values(), *cookies_set(page).values()):
            assert "; secure" in cookie.lower(), cookie
        assert "httponly" in cookies[SESSION_COOKIE].lower()
    off = HubSettings(_env_file=None, http_host="0.0.0.0", https=False)  # type: ignore[call-arg]  # noqa: S104
    assert not https_by_default(off)
    for host, default in (
        ("127.0.0.1", False),
        ("127.0.0.2", False),
        ("::1", False),
        ("localhost", False),
        ("::", True),
        ("192.0.2.10", True),
        ("hub.example.org", True),
    ):
        assert https_by_default(HubSettings(_env_file=None, http_host=host)) is default, host  # type: ignore[call-arg]


def test_served_over_tls_the_hub_says_so_and_its_cookies_are_secure(
    hub_db: HubDatabase, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path / "pki")
    tls = {"ssl_certfile": str(pki.cert_file), "ssl_keyfile": str(pki.key_file)}
    with live_hub(hub_db, **tls) as hub:  # on loopback: only TLS itself turns it on
        assert hub.base_url.startswith("https://")
        hub.verify = ssl.create_default_context(cafile=pki.ca_file)
        page, signed_in = sign_in_answer(hub)
        assert signed_in.status_code == 303
        for answer in (page, signed_in):
            assert "strict-transport-security" in answer.headers
        for cookie in cookies_set(signed_in).values():
            assert "; secure" in cookie.lower(), cookie
        with hub.client() as http:  # and a browser over TLS signs in and works as ever
            assert post_sign_in(http, form_token(http)).status_code == 303
            assert http.get("/fleet/rows").status_code == 200
