"""The screens of ``make fleet`` in headless Chromium, for tests/fleet/test_fleet_demo.py:
what a person does there with what the demo printed. A station's courier screen (the demo
courier's first sign-in with the printed one-time password, an announced parcel deposited
by its tracking number, the page reloaded while the door is open, the simulator's hands
through its printed token) and the hub's fleet screen (the operator's printed password; on
a desk and on a phone)."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.screens.conftest import VIEWPORT, WAIT_MS, no_script_errors
from tests.screens.test_screens_courier_announced import door_opened
from tests.screens.test_screens_fleet_scale import PHONE, fits

API = "/api/v1"
ONE_TIME = r'^  courier screen: sign in as "demo-courier" with the one-time password (\S+)'
OWN = "the demo courier's own long password"


def _page(browser: Browser, base_url: str, viewport: dict[str, int]) -> Page:
    context = browser.new_context(
        base_url=base_url,
        viewport=viewport,  # type: ignore[arg-type]
        locale="en-GB",
        has_touch=viewport == PHONE,
        is_mobile=viewport == PHONE,
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(  # a script or style the Content-Security-Policy refused
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


def courier_deposits(
    browser: Browser, station: str, one_time: str, sim: str, number: str, code_for: str
) -> None:
    """On ``station``'s /courier, the demo courier signs in the first time (the printed
    one-time password, then a password of its own), finds the announced ``number`` listed,
    types it and deposits that parcel; the page is loaded again while the door is open
    (the deposit comes back); the simulator's hands put it in and shut the door; the
    screen shows its code."""
    page = _page(browser, station, VIEWPORT)
    try:
        page.goto("/courier")
        page.fill("#name", "demo-courier")
        page.fill("#password", one_time)
        page.click("button[type=submit]")
        page.fill("#new_password", OWN)
        page.fill("#new_password_again", OWN)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Deposit a parcel")
        expect(page.locator("[data-token-revoked]")).to_be_visible()  # the printed token ended
        listed = page.locator(f"#announced tr[data-announced='{number}']")
        expect(listed.locator("td").first).to_have_text(number)
        page.fill("#tracking_number", number)
        page.press("#tracking_number", "Enter")  # typed, then Enter: the announced one
        expect(page.locator("[data-announced-match]")).to_contain_text(f"Announced: {number}")
        expect(page.locator("#deposit-announced")).to_be_focused()
        page.keyboard.press("Enter")
        door = door_opened(page)
        page.reload()  # lost mid-deposit: the door stands open, the deposit comes back
        expect(page.locator("[data-resumed]")).to_have_text(
            f"Your deposit into compartment {door} is still under way."
        )
        expect(page.locator("#work")).to_contain_text("Waiting for the door")
        hands = {"authorization": f"Bearer {sim}"}
        for hand in ("put", "close"):
            done = httpx.post(f"{station}{API}/sim/doors/{door}/{hand}", headers=hands, timeout=30)
            assert done.status_code == 200, done.text
        expect(page.locator("[data-code-for]")).to_have_text(code_for)
        expect(page.locator("[data-pin]")).to_have_text(re.compile(r"^\d{3} \d{3} \d{4}$"))
        no_script_errors(page)
    finally:
        page.context.close()


def fleet_screen(browser: Browser, hub: str, password: str, phone: bool = False) -> Page:
    """The hub's fleet screen, signed in as the demo's operator (its printed password)."""
    page = _page(browser, hub, PHONE if phone else VIEWPORT)
    page.goto("/fleet/")
    page.fill("#name", "operator")
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Every station")
    return page


def station_online(page: Page, name: str) -> None:
    expect(page.locator(f"#station-{name} .badge.on")).to_be_visible()


def parcels_listed(page: Page, name: str, number: str, state: str) -> None:
    """On ``name``'s page of the fleet screen: ``number`` listed once, in ``state``."""
    page.goto(f"/fleet/stations/{name}")
    row = page.locator("#parcels tr", has_text=number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(state)


def phone_fits(browser: Browser, hub: str, password: str, names: tuple[str, ...]) -> None:
    """The fleet list on a phone (390 px): every station there, online, nothing running
    off the side."""
    page = fleet_screen(browser, hub, password, phone=True)
    try:
        for name in names:
            station_online(page, name)
        assert fits(page)
        no_script_errors(page)
    finally:
        page.context.close()
