"""The screens' role checks, over real HTTP: every screen endpoint that needs a role sends
anyone else to its sign-in page (htmx: 401 with HX-Redirect; a browser: 303), a signed-in
browser must send its CSRF token with every change, and a courier cannot use the
maintenance screen (nor staff the courier's)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.api.live import PASSWORD, LiveStation, live_station
from tests.api.test_http_roles import ROLES, SCREEN_NEEDS, SCREEN_PUBLIC

HTMX = {"HX-Request": "true"}


def _url(path: str) -> str:
    url = path.replace("{parcel_id}", "1").replace("{compartment_id}", "1")
    return url.replace("{hand}", "close").replace("{recipient_id}", "1")


def _call(client: httpx.Client, method: str, path: str, **headers: str) -> httpx.Response:
    return client.request(
        method, _url(path), headers=headers, data={} if method == "POST" else None
    )


def _home(path: str) -> str:
    return "/" + path.split("/")[1]


def screen_browser(live: LiveStation, name: str) -> httpx.Client:
    """A browser signed in on the screen its account may use, sending its CSRF token."""
    browser = live.client(None)
    screen = "/courier" if name in ("courier", "rival") else "/staff"
    answer = browser.post(f"{screen}/sign-in", data={"name": name, "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == screen
    # each screen keeps its own session (a back-office PC may hold both)
    csrf = browser.cookies["locker_courier_csrf" if screen == "/courier" else "locker_csrf"]
    browser.headers["X-CSRF-Token"] = csrf
    return browser


def test_anonymous_is_sent_to_the_sign_in_page(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client(None) as anyone:
        for method, path in sorted(SCREEN_NEEDS):
            answer = _call(anyone, method, path, **HTMX)
            assert answer.status_code == 401, (method, path, answer.status_code)
            assert answer.headers["HX-Redirect"] == _home(path), (method, path)
            plain = _call(anyone, method, path)
            assert plain.status_code == 303, (method, path)
            assert plain.headers["location"] == _home(path)
        for method, path in sorted(SCREEN_PUBLIC):
            answer = _call(anyone, method, path, **HTMX)
            assert answer.status_code not in (401, 403), (method, path)
            assert answer.status_code < 500, (method, path, answer.status_code)
        for home in ("/courier", "/staff"):
            page = anyone.get(home)
            assert page.status_code == 200
            assert 'name="password"' in page.text  # the sign-in form


def test_each_role_reaches_only_its_screen_and_changes_need_the_csrf_token(
    tmp_path: Path,
) -> None:
    with live_station(tmp_path, background=False) as live:
        browsers = {role: screen_browser(live, role) for role in ROLES}
        try:
            for method, path in sorted(SCREEN_NEEDS):
                for role, browser in browsers.items():
                    if path.endswith("/sign-out"):
                        continue  # would end the session the loop goes on with
                    answer = _call(browser, method, path, **HTMX)
                    if role in SCREEN_NEEDS[(method, path)]:
                        assert answer.status_code not in (401, 403), (method, path, role)
                        assert answer.status_code < 500, (method, path, role, answer.text)
                    else:
                        assert answer.status_code == 401, (method, path, role)
                        assert answer.headers["HX-Redirect"] == _home(path)
            # a change without the CSRF token counts as not signed in; with it, it is done
            staff = browsers["staff"]
            del staff.headers["X-CSRF-Token"]
            forged = staff.post(
                "/staff/compartments/3/out-of-service", data={"reason": "x"}, headers=HTMX
            )
            assert forged.status_code == 401
            staff.headers["X-CSRF-Token"] = staff.cookies["locker_csrf"]
            done = staff.post(
                "/staff/compartments/3/out-of-service", data={"reason": "hinge"}, headers=HTMX
            )
            assert done.status_code == 200
            assert 'data-state="out_of_service"' in done.text
            assert "hinge" in done.text
            assert done.text.count("compartment.out_of_service") == 1  # the forged one did nothing
            # a wrong token is no better than none, on the courier's screen too
            courier = browsers["courier"]
            wrong = courier.post(
                "/courier/deposit",
                data={"tracking_number": "T", "recipient_name": "R", "size": "S"},
                headers={**HTMX, "X-CSRF-Token": "not-the-token"},
            )
            assert wrong.status_code == 401
            assert live.sim.pulses(1) + live.sim.pulses(2) == 0
            # the staff page shows the courier the sign-in form, not the station; a courier
            # account signing in there is told it may not use it
            page = browsers["courier"].get("/staff")
            assert 'action="/staff/sign-in"' in page.text
            wrong = browsers["courier"].post(
                "/staff/sign-in", data={"name": "courier", "password": PASSWORD}
            )
            assert "This account may not use this screen." in wrong.text
            # signing out ends the session
            out = browsers["rival"].post("/courier/sign-out", headers=HTMX)
            assert out.status_code == 204
            assert out.headers["HX-Redirect"] == "/courier"
            assert browsers["rival"].get("/courier/returns", headers=HTMX).status_code == 401
        finally:
            for browser in browsers.values():
                browser.close()


def test_a_sign_in_with_a_one_time_password_asks_for_a_new_one(tmp_path: Path) -> None:
    """One calm step: the one-time password is accepted (no error, not typed again), then
    the new password twice, with its rules shown; the three-field form still works."""
    import re

    from locker.people import accounts
    from locker.types import Role

    with live_station(tmp_path, background=False) as live, live.client(None) as browser:
        made = accounts.create_account(
            live.runtime.station, name="newbie", role=Role.STAFF, carrier=None, actor="test"
        )
        assert made.password is not None
        first = browser.post("/staff/sign-in", data={"name": "newbie", "password": made.password})
        assert first.status_code == 200
        assert 'role="alert"' not in first.text  # no red error
        assert 'name="password"' not in first.text  # the one-time password is not asked again
        assert 'name="new_password"' in first.text
        assert 'name="new_password_again"' in first.text
        assert "At least 10 characters" in first.text  # the rules, before anything is typed
        assert made.password not in first.text
        found = re.search(r'name="ticket" value="([^"]+)"', first.text)
        assert found is not None
        ticket = found.group(1)
        differ = browser.post(
            "/staff/first-password",
            data={
                "name": "newbie",
                "ticket": ticket,
                "new_password": "a long new password",
                "new_password_again": "a long new passwort",
            },
        )
        assert differ.status_code == 422
        assert "not the same" in differ.text
        assert 'name="ticket"' in differ.text  # still the second step
        forged = browser.post(
            "/staff/first-password",
            data={
                "name": "newbie",
                "ticket": ticket[:-2] + "00",
                "new_password": "a long new password",
                "new_password_again": "a long new password",
            },
        )
        assert forged.status_code == 401
        assert "locker_session" not in browser.cookies
        chosen = browser.post(
            "/staff/first-password",
            data={
                "name": "newbie",
                "ticket": ticket,
                "new_password": "a long new password",
                "new_password_again": "a long new password",
            },
        )
        assert chosen.status_code == 303
        assert browser.get("/staff/health").status_code == 200
        again = browser.post(  # the ticket ends with the one-time password
            "/staff/first-password",
            data={
                "name": "newbie",
                "ticket": ticket,
                "new_password": "another long password",
                "new_password_again": "another long password",
            },
        )
        assert again.status_code == 401
        signed = browser.post(
            "/staff/sign-in", data={"name": "newbie", "password": "a long new password"}
        )
        assert signed.status_code == 303
        wrong = browser.post("/staff/sign-in", data={"name": "newbie", "password": "nope"})
        assert wrong.status_code == 401
        assert "Wrong name or password." in wrong.text
        # the older three-field form (new_password with the one-time one) still works
        other = accounts.create_account(
            live.runtime.station, name="other", role=Role.STAFF, carrier=None, actor="test"
        )
        assert other.password is not None
        weak = browser.post(
            "/staff/sign-in",
            data={"name": "other", "password": other.password, "new_password": "short"},
        )
        assert weak.status_code == 422
        both = browser.post(
            "/staff/sign-in",
            data={"name": "other", "password": other.password, "new_password": "a long password"},
        )
        assert both.status_code == 303


def test_pages_forbid_framing_and_foreign_scripts(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client(None) as anyone:
        for path in ("/", "/kiosk", "/courier", "/staff", "/sim"):
            page = anyone.get(path)
            assert page.status_code == 200
            policy = page.headers["content-security-policy"]
            assert "script-src 'self';" in policy
            assert "frame-ancestors 'none'" in policy
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["x-content-type-options"] == "nosniff"
        # the API's docs carry them too, with a policy that lets their start script run
        for path in ("/docs", "/redoc", "/openapi.json"):
            docs = anyone.get(path)
            assert docs.status_code == 200, path
            assert "frame-ancestors 'none'" in docs.headers["content-security-policy"], path
            assert docs.headers["x-frame-options"] == "DENY", path
            assert docs.headers["x-content-type-options"] == "nosniff", path
        assert "content-security-policy" not in anyone.get("/healthz").headers
        # every page names its icon, and the default place answers too (no 404)
        assert 'rel="icon" href="/static/favicon.svg"' in anyone.get("/kiosk").text
        for icon in ("/favicon.ico", "/static/favicon.svg"):
            answer = anyone.get(icon)
            assert answer.status_code == 200, icon
            assert answer.headers["content-type"].startswith("image/svg+xml"), icon
