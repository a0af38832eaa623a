"""Signing in through HTTP: bearer tokens, the first admin's one-time password, browser
sessions with CSRF protection, signing out, deactivated accounts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from locker.people import accounts, sign_in
from tests.api.http_helpers import API, bare_station, ok, problem
from tests.api.live import PASSWORD, LiveStation, live_station

NEW_PASSWORD = "a much longer passphrase"


def _account_id(admin: httpx.Client, name: str) -> int:
    for account in ok(admin.get(f"{API}/accounts")):
        if account["name"] == name:
            found: int = account["id"]
            return found
    raise AssertionError(f"no account {name}")


def _bearer(live: LiveStation, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=live.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0
    )


def test_bearer_token_from_name_and_password(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client(None) as anyone:
        body = ok(
            anyone.post(
                f"{API}/auth/token",
                json={"name": "staff", "password": PASSWORD, "label": "laptop"},
            ),
            201,
        )
        assert body["token"].startswith("lps_")
        assert body["account"]["name"] == "staff"
        assert body["account"]["role"] == "staff"
        assert body["account"]["carrier"] is None
        with _bearer(live, body["token"]) as client:
            me = ok(client.get(f"{API}/auth/me"))
            assert me["name"] == "staff"
            assert me["role"] == "staff"
            assert ok(client.get(f"{API}/compartments"))
        assert not anyone.cookies  # a token sign-in sets no cookie

        courier = ok(
            anyone.post(f"{API}/auth/token", json={"name": "courier", "password": PASSWORD}), 201
        )
        assert courier["account"]["carrier"] == "Parcel Co"
        with _bearer(live, courier["token"]) as client:
            assert ok(client.get(f"{API}/auth/me"))["role"] == "courier"

        wrong = anyone.post(f"{API}/auth/token", json={"name": "staff", "password": "nope" * 3})
        unknown = anyone.post(f"{API}/auth/token", json={"name": "nobody", "password": "x" * 12})
        problem(wrong, 401, "not_authenticated")
        problem(unknown, 401, "not_authenticated")
        assert wrong.content == unknown.content  # no hint which names exist
        problem(anyone.post(f"{API}/auth/token", json={"name": "staff"}), 422, "invalid_request")

        # couriers get tokens, never a browser session
        response = anyone.post(
            f"{API}/auth/session", json={"name": "courier", "password": PASSWORD}
        )
        problem(response, 403, "forbidden")
        assert "set-cookie" not in response.headers
        assert "locker_session" not in anyone.cookies

        for header in ("Bearer lps_not-a-token", "Token lps_x", "Basic c3RhZmY6eA=="):
            answer = anyone.get(f"{API}/auth/me", headers={"Authorization": header})
            problem(answer, 401, "not_authenticated")
            assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_wrong_passwords_are_limited_per_account_name(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client(None) as anyone:
        for _ in range(5):
            problem(
                anyone.post(f"{API}/auth/token", json={"name": "staff", "password": "x" * 12}),
                401,
                "not_authenticated",
            )
        limited = anyone.post(f"{API}/auth/token", json={"name": "staff", "password": PASSWORD})
        problem(limited, 429, "too_many_attempts")
        assert int(limited.headers["Retry-After"]) == 30
        # another account is not held up
        ok(anyone.post(f"{API}/auth/token", json={"name": "admin", "password": PASSWORD}), 201)
        live.clock.advance(seconds=31)
        ok(anyone.post(f"{API}/auth/token", json={"name": "staff", "password": PASSWORD}), 201)


def test_one_address_trying_many_names_is_limited_too(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client(None, local_address="127.0.0.3") as sprayer,
        live.client(None, local_address="127.0.0.4") as colleague,
    ):
        free = sign_in.LOGIN_FROM_POLICY.free_failures
        for n in range(free):  # a different name each time: no name's own limit is hit
            problem(
                sprayer.post(f"{API}/auth/token", json={"name": f"u{n}", "password": "x" * 12}),
                401,
                "not_authenticated",
            )
        limited = sprayer.post(f"{API}/auth/token", json={"name": "staff", "password": PASSWORD})
        problem(limited, 429, "too_many_attempts")
        # the account itself is not locked: the same password works from elsewhere
        ok(colleague.post(f"{API}/auth/token", json={"name": "staff", "password": PASSWORD}), 201)


def test_first_admin_must_replace_the_one_time_password(tmp_path: Path) -> None:
    with bare_station(tmp_path) as station, station.client() as anyone:
        one_time = accounts.ensure_admin(station.runtime.station)
        assert one_time
        assert accounts.ensure_admin(station.runtime.station) is None  # only once

        url = f"{API}/auth/token"
        problem(
            anyone.post(url, json={"name": "admin", "password": one_time}),
            403,
            "password_change_required",
        )
        problem(
            anyone.post(f"{API}/auth/session", json={"name": "admin", "password": one_time}),
            403,
            "password_change_required",
        )
        problem(
            anyone.post(url, json={"name": "admin", "password": one_time, "new_password": "short"}),
            422,
            "weak_password",
        )
        body = ok(
            anyone.post(
                url, json={"name": "admin", "password": one_time, "new_password": NEW_PASSWORD}
            ),
            201,
        )
        assert body["account"]["role"] == "admin"
        with station.client(body["token"]) as admin:
            assert [a["name"] for a in ok(admin.get(f"{API}/accounts"))] == ["admin"]

        problem(
            anyone.post(url, json={"name": "admin", "password": one_time}),
            401,
            "not_authenticated",
        )
        again = ok(anyone.post(url, json={"name": "admin", "password": NEW_PASSWORD}), 201)
        assert again["token"] != body["token"]


def test_accounts_made_by_the_admin_start_with_a_one_time_password(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("admin") as admin,
        live.client(None) as anyone,
    ):
        made = ok(admin.post(f"{API}/accounts", json={"name": "clerk", "role": "staff"}), 201)
        assert made["account"]["role"] == "staff"
        assert made["account"]["active"] is True
        assert made["token"] is None
        one_time = made["one_time_password"]
        problem(
            anyone.post(f"{API}/auth/session", json={"name": "clerk", "password": one_time}),
            403,
            "password_change_required",
        )
        signed_in = anyone.post(
            f"{API}/auth/session",
            json={"name": "clerk", "password": one_time, "new_password": NEW_PASSWORD},
        )
        assert ok(signed_in)["account"]["name"] == "clerk"

        bob = ok(
            admin.post(
                f"{API}/accounts", json={"name": "bob", "role": "courier", "carrier": "Parcel Co"}
            ),
            201,
        )
        assert bob["account"]["carrier"] == "Parcel Co"
        assert bob["token"].startswith("lps_")
        with _bearer(live, bob["token"]) as client:
            assert ok(client.get(f"{API}/auth/me"))["name"] == "bob"

        problem(
            admin.post(f"{API}/accounts", json={"name": "clerk", "role": "staff"}),
            409,
            "account_exists",
        )
        problem(
            admin.post(f"{API}/accounts", json={"name": "bad name!", "role": "staff"}),
            422,
            "invalid_request",
        )
        problem(
            admin.post(f"{API}/accounts", json={"name": "x", "role": "superuser"}),
            422,
            "invalid_request",
        )
        no_carrier = admin.post(f"{API}/accounts", json={"name": "eve", "role": "courier"})
        assert 400 <= no_carrier.status_code < 500
        assert no_carrier.headers["content-type"].startswith("application/problem+json")
        names = [a["name"] for a in ok(admin.get(f"{API}/accounts"))]
        assert names == ["admin", "staff", "courier", "rival", "clerk", "bob"]


@contextmanager
def _session(
    live: LiveStation, name: str = "staff"
) -> Iterator[tuple[httpx.Client, dict[str, Any]]]:
    """A browser signed in with a session cookie, and the sign-in answer (CSRF token)."""
    with live.client(None) as client:
        response = client.post(f"{API}/auth/session", json={"name": name, "password": PASSWORD})
        body: dict[str, Any] = ok(response)
        yield client, body


def test_browser_session_cookie_with_csrf_protection(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client(None) as browser,
        live.client("staff") as staff,
    ):
        response = browser.post(f"{API}/auth/session", json={"name": "staff", "password": PASSWORD})
        body = ok(response)
        cookie = response.headers["set-cookie"]
        attributes = [part.strip().lower() for part in cookie.split(";")]
        assert attributes[0].startswith("locker_session=")
        assert "httponly" in attributes
        assert "samesite=strict" in attributes
        assert "path=/" in attributes
        assert "max-age=43200" in attributes
        assert "secure" not in attributes  # cookie_secure is off on plain http
        session_id = browser.cookies["locker_session"]
        assert session_id not in response.text  # the body never repeats the cookie
        csrf = body["csrf_token"]
        assert len(csrf) >= 32
        assert datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")) == (
            live.clock() + timedelta(hours=12)
        )
        assert body["account"]["role"] == "staff"

        # reading needs only the cookie
        assert ok(browser.get(f"{API}/auth/me"))["name"] == "staff"
        assert len(ok(browser.get(f"{API}/compartments"))) == 12

        # a change needs the CSRF token too
        url = f"{API}/compartments/5/out-of-service"
        problem(browser.post(url, json={"reason": "x"}), 403, "csrf_failed")
        problem(
            browser.post(url, json={"reason": "x"}, headers={"X-CSRF-Token": "forged"}),
            403,
            "csrf_failed",
        )
        assert ok(staff.get(f"{API}/compartments/5"))["compartment"]["state"] == "free"
        done = ok(browser.post(url, json={"reason": "x"}, headers={"X-CSRF-Token": csrf}))
        assert done["state"] == "out_of_service"
        audit = ok(staff.get(f"{API}/audit", params={"compartment": 5, "action": "compartment."}))
        assert audit[0]["actor"] == "staff:staff"

        # another session's CSRF token does not fit this one
        with _session(live) as (_, other_body):
            problem(
                browser.post(
                    f"{API}/compartments/5/clear-fault",
                    json={},
                    headers={"X-CSRF-Token": other_body["csrf_token"]},
                ),
                403,
                "csrf_failed",
            )

        # signing out also needs the token, then the session is gone
        problem(browser.delete(f"{API}/auth/session"), 403, "csrf_failed")
        out = browser.delete(f"{API}/auth/session", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
        assert "locker_session" not in browser.cookies
        with httpx.Client(
            base_url=live.base_url, cookies={"locker_session": session_id}, timeout=30.0
        ) as replay:
            problem(replay.get(f"{API}/auth/me"), 401, "not_authenticated")
            problem(
                replay.post(url, json={"reason": "x"}, headers={"X-CSRF-Token": csrf}),
                401,
                "not_authenticated",
            )
        problem(browser.get(f"{API}/auth/me"), 401, "not_authenticated")

        # a session runs out after session_hours
        with _session(live) as (later, _):
            live.clock.advance(hours=11, minutes=59)
            assert ok(later.get(f"{API}/auth/me"))["name"] == "staff"
            live.clock.advance(minutes=2)
            problem(later.get(f"{API}/auth/me"), 401, "not_authenticated")


def test_deactivated_accounts_stop_working_at_once(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("admin") as admin,
        live.client("staff") as staff_token,
        live.client("courier") as courier,
    ):
        with _session(live) as (browser, session):
            assert ok(browser.get(f"{API}/auth/me"))["name"] == "staff"
            assert ok(staff_token.get(f"{API}/auth/me"))["name"] == "staff"
            staff_id = _account_id(admin, "staff")

            off = ok(admin.post(f"{API}/accounts/{staff_id}/deactivate"))
            assert off["name"] == "staff"
            assert off["active"] is False
            problem(staff_token.get(f"{API}/auth/me"), 401, "not_authenticated")
            problem(staff_token.get(f"{API}/compartments"), 401, "not_authenticated")
            problem(browser.get(f"{API}/auth/me"), 401, "not_authenticated")
            problem(
                browser.post(
                    f"{API}/compartments/1/out-of-service",
                    json={"reason": "x"},
                    headers={"X-CSRF-Token": session["csrf_token"]},
                ),
                401,
                "not_authenticated",
            )
            problem(
                browser.post(f"{API}/auth/token", json={"name": "staff", "password": PASSWORD}),
                401,
                "not_authenticated",
            )
        listed = {a["name"]: a["active"] for a in ok(admin.get(f"{API}/accounts"))}
        assert listed == {"admin": True, "staff": False, "courier": True, "rival": True}

        assert ok(courier.get(f"{API}/returns")) == []
        ok(admin.post(f"{API}/accounts/{_account_id(admin, 'courier')}/deactivate"))
        problem(courier.get(f"{API}/returns"), 401, "not_authenticated")

        admin_id = _account_id(admin, "admin")
        problem(admin.post(f"{API}/accounts/{admin_id}/deactivate"), 409, "invalid_transition")
        problem(admin.post(f"{API}/accounts/999/deactivate"), 404, "account_not_found")
        assert ok(admin.get(f"{API}/auth/me"))["name"] == "admin"


def test_bearer_tokens_end_can_be_revoked_and_die_with_a_new_password(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client(None) as anyone:
        url = f"{API}/auth/token"
        body = ok(anyone.post(url, json={"name": "staff", "password": PASSWORD}), 201)
        ends = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
        assert ends == live.clock() + timedelta(hours=12)  # token_hours
        with _bearer(live, body["token"]) as script:
            live.clock.advance(hours=11, minutes=59)
            assert ok(script.get(f"{API}/auth/me"))["name"] == "staff"
            live.clock.advance(minutes=2)
            problem(script.get(f"{API}/auth/me"), 401, "not_authenticated")

        # a script signs itself out; the token is dead, other tokens live on
        first = ok(anyone.post(url, json={"name": "staff", "password": PASSWORD}), 201)["token"]
        second = ok(anyone.post(url, json={"name": "staff", "password": PASSWORD}), 201)["token"]
        with _bearer(live, first) as one, _bearer(live, second) as two:
            assert one.delete(url).status_code == 204
            problem(one.get(f"{API}/auth/me"), 401, "not_authenticated")
            problem(one.delete(url), 401, "not_authenticated")
            assert ok(two.get(f"{API}/auth/me"))["name"] == "staff"

            # a browser session has no token to revoke
            with _session(live) as (browser, session):
                problem(
                    browser.delete(url, headers={"X-CSRF-Token": session["csrf_token"]}),
                    400,
                    "no_bearer_token",
                )
                problem(browser.delete(url), 403, "csrf_failed")

                # a new password signs the account out everywhere
                ok(
                    anyone.post(
                        url,
                        json={"name": "staff", "password": PASSWORD, "new_password": NEW_PASSWORD},
                    ),
                    201,
                )
                problem(two.get(f"{API}/auth/me"), 401, "not_authenticated")
                problem(browser.get(f"{API}/auth/me"), 401, "not_authenticated")
        with live.client("admin") as admin:
            audit = ok(admin.get(f"{API}/audit", params={"action": "token."}))
        assert {row["action"] for row in audit} >= {"token.issued", "token.revoked"}
        assert all(first not in str(row) for row in audit)
