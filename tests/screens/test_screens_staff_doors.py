"""Staff door openings on the maintenance screen, in a real browser: the reason is needed,
past the station's limit a second staff member confirms with their own password, an admin
opens every door at once after a confirmation; the simulator's screen says who may use it."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Dialog, expect

from locker.people import accounts
from locker.types import Role
from tests.api.http_helpers import API, ok
from tests.api.live import PASSWORD, live_station
from tests.screens.conftest import Screens, no_script_errors, shot

SECOND = "second-staff"


def test_reason_and_second_staff_confirmation_on_the_maintenance_screen(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(tmp_path, staff_open_limit=2) as live:
        accounts.create_account(
            live.runtime.station, name=SECOND, role=Role.STAFF, actor="test", password=PASSWORD
        )
        screens = Screens(browser, live)
        try:
            staff = screens.signed_in("/staff", "staff")
            expect(staff.locator("form.open-all")).to_have_count(0)  # not for staff

            # no reason: the browser does not send it; only blanks: the station refuses
            staff.goto("/staff?c=1")
            expect(staff.locator("#detail h2")).to_contain_text("Compartment 1")
            staff.click("text=Open the door")
            expect(staff.locator("#open-reason-1:invalid")).to_have_count(1)
            staff.fill("#open-reason-1", "   ")
            staff.click("text=Open the door")
            expect(staff.locator("#detail .message.bad")).to_have_text(
                "Give a reason: it goes to the audit log."
            )
            assert live.sim.pulses(1) == 0

            # two openings with reasons: the limit of this station
            for cid in (1, 2):
                staff.goto(f"/staff?c={cid}")
                staff.fill(f"#open-reason-{cid}", f"check {cid}")
                staff.click("text=Open the door")
                expect(staff.locator("#detail .message.good")).to_have_text(
                    f"Compartment {cid} opened."
                )
            staff.goto("/staff")
            expect(
                staff.locator("main")
            ).to_contain_text(  # the alert's kind in words, then its detail
                "Station: Many doors opened by staff (2 doors opened by staff"
            )

            # the third asks for a second staff member, keeping the reason typed
            staff.goto("/staff?c=3")
            staff.fill("#open-reason-3", "customer at the counter")
            staff.click("text=Open the door")
            expect(staff.locator("#detail .message.bad")).to_contain_text(
                "a second staff member must confirm"
            )
            expect(staff.locator("#open-reason-3")).to_have_value("customer at the counter")
            expect(staff.locator("#second-name-3")).to_be_visible()
            assert live.sim.pulses(3) == 0
            shot(staff, "staff-second-confirmation")

            # oneself is no second; a wrong password neither
            staff.fill("#second-name-3", "staff")
            staff.fill("#second-password-3", PASSWORD)
            staff.click("text=Open the door")
            expect(staff.locator("#detail .message.bad")).to_have_text(
                "The second staff member must be someone else."
            )
            staff.fill("#second-name-3", SECOND)
            staff.fill("#second-password-3", "not the password")
            staff.click("text=Open the door")
            expect(staff.locator("#detail .message.bad")).to_have_text(
                "The second staff member's name or password is wrong."
            )
            assert live.sim.pulses(3) == 0

            # the second staff member types their own password: it opens
            staff.fill("#second-name-3", SECOND)
            staff.fill("#second-password-3", PASSWORD)
            staff.click("text=Open the door")
            expect(staff.locator("#detail .message.good")).to_have_text("Compartment 3 opened.")
            assert live.sim.pulses(3) == 1
            staff.goto("/staff/audit?action=door.")
            expect(staff.locator("table.audit")).to_contain_text(
                "customer at the counter (confirmed by staff:second-staff)"
            )
            no_script_errors(staff)
        finally:
            screens.close()


def test_an_admin_opens_every_door_after_a_confirmation(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path) as live:
        live.sim.jam(4)
        screens = Screens(browser, live)
        try:
            admin = screens.signed_in("/staff", "admin")
            form = admin.locator("form.open-all")
            expect(form).to_contain_text("Open every door")
            asked: list[str] = []

            def dismiss(dialog: Dialog) -> None:
                asked.append(dialog.message)
                dialog.dismiss()

            admin.fill("#open-all-reason", "cleaning")
            admin.once("dialog", dismiss)
            form.locator("button").click()
            expect(form.locator("#open-all-said")).to_be_empty()

            def accept(dialog: Dialog) -> None:
                dialog.accept()

            admin.once("dialog", accept)
            form.locator("button").click()
            said = form.locator("#open-all-said .message")
            expect(said).to_have_text(
                "Opened: 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12. Did not open: 4. Skipped: –."
            )
            assert asked == ["Really open every door of the station?"]
            opened = [cid for cid in range(1, 13) if cid != 4]
            assert all(not live.sim.state(cid).latched for cid in opened)
            # once each: the dismissed confirmation opened nothing
            assert [live.sim.pulses(cid) for cid in opened] == [1] * len(opened)
            shot(admin, "staff-open-all")
            admin.goto("/staff/audit?action=open_all")
            expect(admin.locator("table.audit")).to_contain_text("cleaning (12 compartments)")
            no_script_errors(admin)
        finally:
            screens.close()


def test_the_sim_screen_tells_who_may_use_it(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path) as live:
        screens = Screens(browser, live)
        try:
            anyone = screens.open("/sim")
            expect(anyone.locator("[data-sim-rule]")).to_contain_text(
                "Only staff may use the simulated doors"
            )
            expect(anyone.locator("#sim-front")).to_have_count(0)
            anyone.get_by_role("link", name="Sign in on the maintenance screen").click()
            anyone.wait_for_url("**/staff")
            anyone.fill("#name", "staff")
            anyone.fill("#password", PASSWORD)
            anyone.click("button[type=submit]")
            anyone.wait_for_url("**/staff")
            with live.client("staff") as staff:  # a hand can put a parcel only through a door
                ok(staff.post(f"{API}/compartments/1/open", json={"reason": "look inside"}))
            anyone.goto("/sim")
            # signed in: the page says who, and offers a sign-out instead of a sign-in
            expect(anyone.locator(".brand")).to_have_text("Simulated doors · staff")
            expect(
                anyone.get_by_role("link", name="Sign in on the maintenance screen")
            ).to_have_count(0)
            anyone.click("#sim-door-1")
            anyone.click("#sim-put")
            expect(anyone.locator("[data-sim-state]")).to_contain_text("parcel inside")
            assert live.sim.state(1).item is True
            anyone.get_by_role("button", name="Sign out").click()
            anyone.wait_for_url("**/sim")
            expect(anyone.locator(".brand")).to_have_text("Simulated doors")
            expect(anyone.locator("#sim-front")).to_have_count(0)
            expect(
                anyone.get_by_role("link", name="Sign in on the maintenance screen")
            ).to_be_visible()
            anyone.goto("/staff")  # the maintenance screen's session ended too
            expect(anyone.locator("#password")).to_be_visible()
            no_script_errors(anyone)
        finally:
            screens.close()
