"""The courier's screen where timing and people get in the way: the door watcher and the
courier's "I closed the door" racing for the code, and "the door did not open" pressed
with the parcel already inside. The code must reach the courier exactly once. And a
courier's own new password ends the token printed for them: the screen says so."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from locker.people import accounts
from locker.types import Role
from tests.api.http_helpers import API, problem
from tests.api.live import LiveStation, live_station
from tests.screens.conftest import Screens, no_script_errors


def open_for(courier: Page, tracking: str) -> int:
    courier.fill("#tracking_number", tracking)
    courier.fill("#recipient_name", "Katherine Johnson")
    courier.click("text=Open a compartment")
    told = courier.locator("#work .message.good")
    expect(told).to_contain_text("is open")
    return int(re.findall(r"Compartment (\d+) is open", told.inner_text())[0])


def code_shown_once(live: LiveStation, courier: Page, compartment: int) -> None:
    expect(courier.locator("#work")).to_contain_text(f"Stored in compartment {compartment}")
    expect(courier.locator("[data-pin]")).to_have_text(re.compile(r"^\d{3} \d{3} \d{4}$"))
    courier.wait_for_load_state("networkidle")
    expect(courier.locator("[data-pin]")).to_have_count(1)  # not replaced by a later answer
    assert len(live.ctx.handover) == 0  # nothing left waiting for nobody


def test_the_watcher_and_the_button_race_for_the_code(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path) as live:
        screens = Screens(browser, live)
        try:
            courier = screens.signed_in("/courier", "courier")
            for round_ in range(3):  # whichever wins, the code shows once
                compartment = open_for(courier, f"TRK-RACE-{round_}")
                live.sim.put(compartment)
                live.sim.close(compartment)
                courier.click("text=I closed the door")
                code_shown_once(live, courier, compartment)
                courier.click("#next-parcel")
                # the fresh form is in place once it took the focus: typing before then
                # could land in the field that autofocus moves to
                expect(courier.locator("#tracking_number")).to_be_focused()
            no_script_errors(courier)
        finally:
            screens.close()


def test_door_reported_stuck_with_the_parcel_inside(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path) as live:
        screens = Screens(browser, live)
        try:
            courier = screens.signed_in("/courier", "courier")
            compartment = open_for(courier, "TRK-INSIDE")
            live.sim.put(compartment)  # it did open after all: the parcel is in
            courier.click("text=The door did not open")
            # the station refuses (the parcel is inside) and keeps waiting for the door
            expect(courier.locator("#work .message.bad")).to_be_visible()
            expect(courier.locator("#work")).to_contain_text("Waiting for the door")
            expect(courier.locator("text=I closed the door")).to_be_visible()
            assert live.sim.pulses(compartment) == 1  # no second compartment was opened
            live.sim.close(compartment)
            code_shown_once(live, courier, compartment)
        finally:
            screens.close()


def first_password(page: Page, name: str, one_time: str) -> None:
    page.fill("#name", name)
    page.fill("#password", one_time)
    page.click("button[type=submit]")
    page.fill("#new_password", f"{name}'s own long password")
    page.fill("#new_password_again", f"{name}'s own long password")
    page.click("button[type=submit]")


def test_a_new_password_ends_the_printed_token_and_the_screen_says_so(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(tmp_path) as live:
        station = live.runtime.station
        kai = accounts.create_account(
            station,
            name="kai",
            role=Role.COURIER,
            carrier="Parcel Co",
            actor="test",
            with_token=True,
        )
        lee = accounts.create_account(
            station, name="lee", role=Role.COURIER, carrier="Parcel Co", actor="test"
        )
        assert kai.password
        assert kai.token
        assert lee.password
        screens = Screens(browser, live)
        try:
            page = screens.open("/courier")
            first_password(page, "kai", kai.password)
            page.wait_for_url("**/courier?said=token_revoked")
            expect(page.locator("[data-token-revoked]")).to_have_text(
                "Your password is set. The access token printed for you no longer works (a new "
                "password ends it, by design): ask the shop for a new one if an app needs it."
            )
            with live.client() as client:  # and it does not
                answer = client.get(
                    f"{API}/returns", headers={"Authorization": f"Bearer {kai.token}"}
                )
                problem(answer, 401, "not_authenticated")
            page.goto("/courier?lang=de&said=token_revoked")
            expect(page.locator("[data-token-revoked]")).to_contain_text(
                "Der für Sie gedruckte Zugangs-Token gilt nicht mehr"
            )
            no_script_errors(page)

            # a courier without a token: nothing ended, nothing to say
            other = screens.open("/courier")
            first_password(other, "lee", lee.password)
            other.wait_for_url("**/courier")
            expect(other.locator("#tracking_number")).to_be_visible()
            expect(other.locator("[data-token-revoked]")).to_have_count(0)
        finally:
            screens.close()
