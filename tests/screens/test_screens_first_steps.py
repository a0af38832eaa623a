"""What a new user stumbled on (issue 19), in a real browser: the first sign-in in one
calm step, one browser signed in on the courier's and the maintenance screen at once,
the navigation on one line at 1280 px with a favicon on every page, the simulator's
doors told apart by shape, and a text field that refuses invisible characters."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Response, expect

from locker.people import accounts
from locker.types import Role
from tests.api.http_helpers import API, ok
from tests.api.live import PASSWORD, live_station
from tests.screens.conftest import Screens, no_script_errors


def test_the_first_sign_in_is_one_calm_step(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path) as live:
        made = accounts.create_account(
            live.runtime.station, name="kim", role=Role.STAFF, actor="test"
        )
        assert made.password is not None
        screens = Screens(browser, live)
        try:
            page = screens.open("/staff")
            expect(page.locator("label[for=password]")).to_contain_text("one-time password")
            page.fill("#name", "kim")
            page.fill("#password", made.password)
            page.click("button[type=submit]")
            # accepted: no red error, the one-time password is not asked again, and the
            # rules are shown before the new password is typed
            expect(page.locator("h1")).to_have_text("Choose your own password")
            expect(page.locator("[role=status]")).to_contain_text("one-time password is right")
            expect(page.locator("[role=alert]")).to_have_count(0)
            expect(page.locator("#password")).to_have_count(0)
            expect(page.locator("#password-rules")).to_have_text(
                re.compile(r"^At least 10 characters")
            )
            expect(page.locator("#new_password")).to_be_focused()
            page.fill("#new_password", "kim's own long password")
            page.fill("#new_password_again", "kim's own long passwort")
            page.click("button[type=submit]")
            expect(page.locator("[role=alert]")).to_contain_text("not the same")
            page.fill("#new_password", "kim's own long password")
            page.fill("#new_password_again", "kim's own long password")
            page.click("button[type=submit]")
            page.wait_for_url("**/staff")
            expect(page.locator(".brand")).to_contain_text("Maintenance · kim")
            no_script_errors(page)
        finally:
            screens.close()


def test_one_browser_holds_the_courier_and_the_maintenance_screen(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(tmp_path) as live:
        screens = Screens(browser, live)
        try:
            courier = screens.signed_in("/courier", "courier")
            courier.fill("#tracking_number", "SHOP-1")  # work under way on this screen
            courier.fill("#recipient_name", "Ada Lovelace")
            courier.locator(".sizes label", has_text="S").first.click()
            # the same browser (one context, one cookie jar), another tab: the admin signs in
            staff = courier.context.new_page()
            staff.goto("/staff")
            staff.fill("#name", "admin")
            staff.fill("#password", PASSWORD)
            staff.click("button[type=submit]")
            staff.wait_for_url("**/staff")
            expect(staff.locator(".brand")).to_contain_text("Maintenance · admin")
            # the courier's screen is still the courier's, with its form as it was
            courier.click("text=Open a compartment")
            expect(courier.locator("#work .message.good")).to_contain_text("is open")
            courier.reload()
            expect(courier.locator(".brand")).to_contain_text("courier")
            staff.reload()
            expect(staff.locator(".brand")).to_contain_text("Maintenance · admin")
            # signing out of one screen leaves the other signed in
            staff.click("text=Sign out")
            staff.wait_for_url("**/staff")
            expect(staff.locator("#password")).to_be_visible()
            courier.reload()  # still signed in: the deposit under way, its door still open
            expect(courier.locator("[data-resumed]")).to_contain_text("still under way")
            no_script_errors(courier)
        finally:
            screens.close()


def test_navigation_fits_1280_px_and_every_page_has_an_icon(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(tmp_path) as live:
        screens = Screens(browser, live)
        try:
            admin = screens.signed_in("/staff", "admin")
            missing: list[str] = []

            def note(response: Response) -> None:
                if response.status == 404:
                    missing.append(response.url)

            admin.on("response", note)
            for lang in ("en", "de"):  # German words are longer
                admin.goto(f"/staff?lang={lang}")
                tops = admin.evaluate(
                    "[...document.querySelectorAll('.bar > *, .bar nav > *')]"
                    ".map(e => Math.round(e.getBoundingClientRect().top + "
                    "e.getBoundingClientRect().height / 2))"
                )
                assert max(tops) - min(tops) <= 4, (lang, tops)  # one line
            for path in ("/", "/kiosk", "/courier", "/staff/audit", "/sim", "/docs"):
                admin.goto(path)
                admin.wait_for_load_state("networkidle")
                if path != "/docs":
                    expect(admin.locator("link[rel=icon]")).to_have_attribute(
                        "href", "/static/favicon.svg"
                    )
            assert not missing, missing
        finally:
            screens.close()


def test_the_simulator_tells_its_doors_apart_and_offers_only_what_applies(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(tmp_path) as live:
        screens = Screens(browser, live)
        try:
            with live.client("staff") as staff:  # unlatched: the spring pushes it ajar
                ok(staff.post(f"{API}/compartments/2/open", json={"reason": "look inside"}))
            sim = screens.sim()

            def look(n: int) -> tuple[str, str]:
                return sim.locator(f"#sim-door-{n}").evaluate(
                    "e => [getComputedStyle(e).borderTopStyle, getComputedStyle(e).backgroundImage]"
                )

            expect(sim.locator("#sim-door-2")).to_have_class(re.compile(r"\bdoor-open\b"))
            latched, opened = look(1), look(2)
            assert latched[0] == "solid"
            assert opened[0] != "solid"  # the frame's shape, not only its colour
            assert latched[1] != opened[1]  # and the pattern
            sim.click("#sim-door-1")
            expect(sim.locator("#sim-door h2")).to_have_text("Compartment 1")
            expect(sim.locator("#sim-open")).to_be_disabled()  # latched: only the station opens
            expect(sim.locator("#sim-close")).to_be_disabled()  # closed already
            expect(sim.locator("#sim-put")).to_be_disabled()
            expect(sim.locator("#sim-open")).to_have_attribute("title", re.compile("latched"))
            sim.click("#sim-door-2")
            expect(sim.locator("#sim-door h2")).to_have_text("Compartment 2")
            expect(sim.locator("#sim-open")).to_be_disabled()  # open already
            expect(sim.locator("#sim-take")).to_be_disabled()  # nothing inside
            expect(sim.locator("#sim-put")).to_be_enabled()
            sim.click("#sim-put")
            expect(sim.locator("#sim-take")).to_be_enabled()
            expect(sim.locator("#sim-put")).to_be_disabled()
            # faults by readable names
            expect(sim.locator("#sim-fault option[value=stuck_latch]")).to_have_text(
                "The latch is stuck"
            )
            sim.select_option("#sim-fault", "no_answer")
            sim.click("#sim-inject")
            expect(sim.locator("[data-sim-faults]")).to_contain_text("The board does not answer")
            no_script_errors(sim)
        finally:
            screens.close()


def test_a_form_refuses_invisible_characters_naming_the_field(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(tmp_path) as live:
        screens = Screens(browser, live)
        try:
            courier = screens.signed_in("/courier", "courier")
            courier.fill("#tracking_number", "JJD\u202e0001")  # shows as "JJD1000"
            courier.fill("#recipient_name", "Ada Lovelace")
            courier.locator(".sizes label", has_text="S").first.click()
            courier.click("text=Open a compartment")
            said = courier.locator("#work .message.bad")
            expect(said).to_contain_text("tracking_number")
            expect(said).to_contain_text("U+202E")
            assert sum(live.sim.pulses(n) for n in range(1, 13)) == 0  # no door opened
        finally:
            screens.close()
