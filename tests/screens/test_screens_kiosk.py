"""The kiosk in a real browser: the keyboard alone, wrong codes and the lockout with its
countdown, the language switch, and a door that does not open."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.api.http_helpers import API, deposit, ok
from tests.api.live import LiveStation, live_station
from tests.screens.conftest import Screens, no_script_errors, shot


def stored_parcel(live: LiveStation, tracking: str) -> tuple[int, str]:
    """A parcel deposited through the API and stored; returns (compartment, PIN)."""
    with live.client("courier") as courier:
        parcel_id, compartment = deposit(courier, tracking=tracking)
        live.sim.put(compartment)
        live.sim.close(compartment)
        body = ok(courier.post(f"{API}/parcels/{parcel_id}/confirm"))
    return compartment, body["code"]["pin"]


def type_code(kiosk: Page, code: str) -> None:
    """The keyboard alone (or a scanner, which types like one): type and press Enter."""
    kiosk.keyboard.type(code)
    kiosk.keyboard.press("Enter")


def test_keyboard_alone_collects(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path) as live:
        compartment, pin = stored_parcel(live, "TRK-KEYS")
        screens = Screens(browser, live)
        try:
            kiosk = screens.open("/kiosk")
            expect(kiosk.locator("#code")).to_be_focused()
            type_code(kiosk, pin)
            expect(kiosk.locator("#result .message.good")).to_contain_text(
                f"Compartment {compartment} is open"
            )
            assert live.sim.pulses(compartment) == 2  # the deposit's and this one
            # from the field, Tab reaches "Open" first, then the keypad
            kiosk.locator("#code").focus()
            kiosk.keyboard.press("Tab")
            expect(kiosk.locator("button[type=submit]")).to_be_focused()
            kiosk.keyboard.press("Tab")
            assert kiosk.evaluate("document.activeElement.dataset.key") == "1"
            no_script_errors(kiosk)
        finally:
            screens.close()


def test_wrong_codes_lock_out_with_a_countdown_in_either_language(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(tmp_path) as live:
        screens = Screens(browser, live)
        try:
            kiosk = screens.open("/kiosk")
            result = kiosk.locator("#result")
            for _ in range(3):  # three free mistakes
                type_code(kiosk, "1234567890")
                expect(result).to_contain_text("does not open any compartment")
                kiosk.click("h1")  # a tap elsewhere: the next typing still reaches the field
            type_code(kiosk, "1234567890")
            expect(result).to_contain_text("Too many wrong codes.")
            wait = kiosk.locator(".wait")
            expect(wait).to_contain_text(re.compile(r"Please wait \d+ seconds"))
            seconds = int(re.findall(r"\d+", wait.inner_text())[0])
            assert 1 <= seconds <= 30
            for button in kiosk.locator("button[data-waits]").all():  # open, more time, return
                expect(button).to_be_disabled()
            # the countdown runs in the page (the station's clock stands still here)
            expect(wait).not_to_have_text(f"Please wait {seconds} seconds before trying again.")
            shot(kiosk, "kiosk-lockout")

            # Deutsch: the whole screen, and the choice is remembered
            kiosk.click("a.lang[lang=de]")
            expect(kiosk.locator("h1")).to_have_text("Paket abholen")
            expect(kiosk.locator("html")).to_have_attribute("lang", "de")
            kiosk.reload()
            expect(kiosk.locator("h1")).to_have_text("Paket abholen")
            type_code(kiosk, "1234567890")
            expect(result).to_contain_text("Zu viele falsche Codes.")
            expect(kiosk.locator(".wait")).to_contain_text("Bitte warten Sie")
            shot(kiosk, "kiosk-de")
            kiosk.click("a.lang[lang=en]")
            expect(kiosk.locator("h1")).to_have_text("Collect your parcel")
            no_script_errors(kiosk)
        finally:
            screens.close()


def test_a_door_that_does_not_open_offers_a_way_on(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path, staff_contact="+49 30 555 0100") as live:
        compartment, pin = stored_parcel(live, "TRK-STUCK")
        live.sim.jam(compartment)
        screens = Screens(browser, live)
        try:
            kiosk = screens.open("/kiosk")
            type_code(kiosk, pin)
            result = kiosk.locator("#result")
            expect(result.locator(".message.bad")).to_contain_text(
                f"Compartment {compartment} did not open."
            )
            expect(result).to_contain_text("Your code stays valid")
            expect(kiosk.locator(".front .door.mark-failed")).to_have_text(str(compartment))
            kiosk.click("text=Another way")
            expect(result).to_contain_text("The shop's staff have been told")
            expect(result).to_contain_text("Call the staff: +49 30 555 0100")
            shot(kiosk, "kiosk-door-fault")
            with live.client("staff") as staff:
                alerts = ok(staff.get(f"{API}/alerts"))
                assert [a["compartment_id"] for a in alerts] == [compartment]
            # repaired, "Try again" puts the customer back at the field; the code still works
            live.sim.jam(compartment, jammed=False)
            kiosk.click("text=Try again")
            type_code(kiosk, pin)
            expect(result.locator(".message.good")).to_contain_text(
                f"Compartment {compartment} is open"
            )
            no_script_errors(kiosk)
        finally:
            screens.close()


def test_after_the_wait_the_kiosk_is_ready_again(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path, attempts_base_delay_s=2) as live:
        compartment, pin = stored_parcel(live, "TRK-WAIT")
        screens = Screens(browser, live)
        try:
            kiosk = screens.open("/kiosk")
            for _ in range(4):
                with kiosk.expect_response("**/kiosk/collect"):
                    type_code(kiosk, "1234567890")
            expect(kiosk.locator("#result")).to_contain_text("Too many wrong codes.")
            for button in kiosk.locator("button[data-waits]").all():  # open, more time, return
                expect(button).to_be_disabled()
            live.clock.advance(seconds=3)  # the station's side of the wait
            # the page's side: the countdown ends, the answer goes, the button comes back
            expect(kiosk.locator("#result .wait")).to_have_count(0)
            expect(kiosk.locator("#result .front")).to_be_visible()
            for button in kiosk.locator("button[data-waits]").all():
                expect(button).to_be_enabled()
            type_code(kiosk, pin)
            expect(kiosk.locator("#result .message.good")).to_contain_text(
                f"Compartment {compartment} is open"
            )
        finally:
            screens.close()


def test_a_code_typed_but_not_sent_is_forgotten(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path, kiosk_clear_s=1) as live:
        screens = Screens(browser, live)
        try:
            kiosk = screens.open("/kiosk")
            kiosk.click(".keypad [data-key='4']")
            kiosk.keyboard.type("2424")
            expect(kiosk.locator("#code")).to_have_value("424 24")  # grouped as a PIN reads
            # shown as dots to anyone looking on
            masked = kiosk.eval_on_selector("#code", "e => getComputedStyle(e).webkitTextSecurity")
            assert masked == "disc"
            expect(kiosk.locator("#code")).to_have_value("")  # the customer walked away
        finally:
            screens.close()
