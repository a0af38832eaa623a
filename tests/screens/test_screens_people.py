"""Issue 17 (second half) in the browser: the courier's screen offers the compartment of
the recipient's waiting parcel; the recipient holds their parcels by the link and at
the kiosk; staff export and erase a person on the maintenance screen."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from locker.notify.messages import extend_token
from tests.api.http_helpers import API, ok, store
from tests.api.live import live_station
from tests.screens.conftest import Screens, no_script_errors

EMAIL = "mary@example.org"


def test_the_courier_is_offered_the_compartment_already_waiting(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(tmp_path, background=False) as live:
        with live.client("courier") as api:
            first = store(live, api, tracking="M-1", size="L", email=EMAIL)
        screens = Screens(browser, live)
        try:
            courier = screens.signed_in("/courier", "courier")
            courier.fill("#tracking_number", "M-2")
            courier.fill("#recipient_name", "Mary Jackson")
            courier.fill("#recipient_email", EMAIL)
            courier.click("text=Open a compartment")
            offer = courier.locator("#beside-offer")
            expect(offer).to_contain_text(
                f"A parcel for this recipient is waiting in compartment {first.compartment_id}"
            )
            assert live.sim.pulses(first.compartment_id) == 1  # nothing opened yet
            courier.click("text=Open a compartment")  # "yes, it fits" is the choice made
            told = courier.locator("#work .message.good")
            expect(told).to_contain_text(f"Compartment {first.compartment_id} is open")
            live.sim.put(first.compartment_id)
            live.sim.close(first.compartment_id)
            courier.click("text=I closed the door")
            expect(courier.locator("[data-pin]")).to_have_text(re.compile(r"^\d{3} \d{3} \d{4}$"))
            assert live.sim.pulses(first.compartment_id) == 2

            # "no": a compartment of its own
            courier.click("#next-parcel")
            expect(courier.locator("#tracking_number")).to_be_focused()
            courier.fill("#tracking_number", "M-3")
            courier.fill("#recipient_name", "Mary Jackson")
            courier.fill("#recipient_email", EMAIL)
            courier.click("text=Open a compartment")
            courier.locator("input[name=beside][value=no]").check()
            courier.click("text=Open a compartment")
            expect(courier.locator("#work .message.good")).to_contain_text("is open")
            expect(courier.locator("#work .message.good")).not_to_contain_text(
                f"Compartment {first.compartment_id} is"
            )
            no_script_errors(courier)
        finally:
            screens.close()


def test_a_hold_by_the_link_and_at_the_kiosk(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path, background=False, hold_max_days=7) as live:
        with live.client("courier") as api:
            stored = store(live, api, tracking="H-1", email=EMAIL)
        screens = Screens(browser, live)
        try:
            page = screens.open(f"/extend/{extend_token(live.runtime.station.hasher, stored.id)}")
            page.select_option("#hold-days", "3")
            page.click("text=Keep them")
            expect(page.locator(".message.good")).to_contain_text(
                "no reminders until 2026-11-04 09:00 UTC; "
                "your parcels now wait until 2026-11-11 09:00 UTC"
            )
            kiosk = screens.open("/kiosk", lang="de")
            kiosk.keyboard.type(stored.pin)
            kiosk.click("#kiosk-hold")
            expect(kiosk.locator("#result .message.good")).to_contain_text(
                "Ihre Pakete warten jetzt bis 2026-11-15 09:00"  # the 4 days left of 7
            )
            with live.client("staff") as staff:
                row = ok(staff.get(f"{API}/parcels/{stored.id}"))
            assert row["hold_days"] == 7
            no_script_errors(page)
            no_script_errors(kiosk)
        finally:
            screens.close()


def test_staff_export_and_erase_a_person(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path, background=False) as live:
        with live.client("courier") as api:
            stored = store(live, api, tracking="P-1", email=EMAIL, name="Dorothy Vaughan")
        screens = Screens(browser, live)
        try:
            staff = screens.signed_in("/staff", "staff")
            staff.click("text=A person's data: export or erase")
            staff.fill("#person-email", EMAIL)
            staff.click("text=Show what is held")
            expect(staff.locator("[data-person-found]")).to_contain_text(
                "1 parcel(s), 1 still waiting"
            )
            expect(staff.locator("#person-result")).to_contain_text("still has a parcel")
            href = staff.locator("#person-export").get_attribute("href") or ""
            assert href.startswith("data:application/json;base64,")
            with live.client(None, local_address="127.0.0.2") as kiosk:
                ok(kiosk.post(f"{API}/collect", json={"code": stored.pin}))
            staff.click("text=Show what is held")
            expect(staff.locator("[data-person-found]")).to_contain_text("0 still waiting")
            staff.once("dialog", lambda dialog: dialog.accept())
            staff.click("#person-erase")
            expect(staff.locator("#person-result .message.good")).to_contain_text(
                "Erased: the station now calls this person person-"
            )
            live.clock.advance(seconds=1)
            assert b"Dorothy Vaughan" not in live.runtime.station.db.path.read_bytes()
            no_script_errors(staff)
        finally:
            screens.close()
