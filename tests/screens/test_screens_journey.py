"""A parcel's whole life on the screens, in a real browser: a courier deposits it on
/courier, a hand closes the door on /sim, the customer collects it on /kiosk with the PIN,
and staff see it collected on /staff and take a compartment out of service."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.api.live import live_station
from tests.screens.conftest import Screens, no_script_errors, shot


def test_deposit_close_collect_and_staff_on_the_screens(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path, timezone="Europe/Berlin") as live:
        screens = Screens(browser, live)
        try:
            # the courier signs in and describes the parcel; the station opens a door
            courier = screens.signed_in("/courier", "courier")
            expect(courier.locator("h1")).to_have_text("Deposit a parcel")
            courier.fill("#tracking_number", "TRK-1001")
            courier.fill("#recipient_name", "Ada Lovelace")
            courier.fill("#recipient_email", "ada@example.org")
            courier.locator(".sizes label", has_text="M").first.click()
            shot(courier, "courier")
            courier.click("text=Open a compartment")
            opened = courier.locator("#work .message.good")
            expect(opened).to_contain_text("is open")
            compartment = int(re.findall(r"Compartment (\d+) is open", opened.inner_text())[0])
            assert compartment in (3, 4, 9, 10)  # the layout's M compartments
            assert live.sim.pulses(compartment) == 1
            assert live.sim.is_open(compartment)  # the spring pushed it ajar
            expect(courier.locator(".front .door.mark-open")).to_have_text(str(compartment))
            expect(courier.locator("#work")).to_contain_text("Waiting for the door")

            # at the station (the simulator's screen), the parcel goes in and the door shuts
            sim = screens.sim()
            sim.click(f"#sim-door-{compartment}")
            expect(sim.locator("#sim-door h2")).to_have_text(f"Compartment {compartment}")
            sim.click("#sim-put")
            sim.click("#sim-close")
            expect(sim.locator("[data-sim-state]")).to_have_attribute(
                "data-sim-state", "closed latched item"
            )
            shot(sim, "sim")
            assert live.sim.holds(compartment)
            assert not live.sim.is_open(compartment)

            # the door watcher stores it; the courier's screen shows the code once
            pin_field = courier.locator("[data-pin]")
            expect(pin_field).to_be_visible()
            shown = pin_field.inner_text().strip()
            assert re.fullmatch(r"\d{3} \d{3} \d{4}", shown), shown  # grouped, as read out
            pin = shown.replace(" ", "")
            expect(courier.locator("#work")).to_contain_text(f"Stored in compartment {compartment}")
            # which parcel and which recipient the code belongs to
            expect(courier.locator("[data-code-for]")).to_have_text(
                "Parcel TRK-1001 for Ada Lovelace."
            )
            expect(courier.locator(".qr img")).to_be_visible()
            shot(courier, "courier-stored")
            courier.click("#next-parcel")
            expect(courier.locator("#tracking_number")).to_be_focused()

            # the customer types the PIN on the kiosk's keypad
            kiosk = screens.open("/kiosk")
            expect(kiosk.locator("#code")).to_be_focused()
            shot(kiosk, "kiosk")
            for digit in pin:
                kiosk.click(f".keypad [data-key='{digit}']")
            expect(kiosk.locator("#code")).to_have_value(shown)  # grouped as it is typed
            kiosk.click("button[type=submit]")
            told = kiosk.locator("#result .message.good")
            expect(told).to_contain_text(f"Compartment {compartment} is open")
            expect(kiosk.locator("#code")).to_have_value("")  # the PIN is not left behind
            expect(kiosk.locator(".front .door.mark-open")).to_have_text(str(compartment))
            assert live.sim.pulses(compartment) == 2
            shot(kiosk, "kiosk-open")
            live.sim.take(compartment)
            # the customer walks away from the open door: the resting kiosk asks to close it
            kiosk.click("text=Done")
            left_open = kiosk.locator(f"[data-left-open='{compartment}']")
            expect(left_open).to_contain_text(f"Compartment {compartment} is still open")

            # staff see the day on the first page: the parcel stored, then collected; and
            # the door standing open (the sensor) over the compartment's state
            staff = screens.signed_in("/staff", "staff")
            today = staff.locator("ul.today")
            expect(today.locator("[data-activity='parcel.collected']")).to_contain_text(
                f"collected: TRK-1001 from compartment {compartment}"
            )
            expect(today.locator("[data-activity='parcel.stored']")).to_contain_text("TRK-1001")
            door = staff.locator(f"#staff-door-{compartment}")
            expect(door).to_have_class(re.compile(r"\bstate-free\b.*\bdoor-open\b"))
            expect(door).to_have_attribute("aria-label", re.compile("door open"))
            live.sim.close(compartment)
            expect(door).not_to_have_class(re.compile(r"\bdoor-open\b"))
            expect(left_open).to_have_count(0)

            # staff find the parcel collected and take another compartment out of service
            staff.goto("/staff/parcels")
            staff.fill("#q", "TRK-1001")
            row = staff.locator("#parcels-table tbody tr")
            expect(row).to_have_count(1)
            expect(row.locator("[data-state]")).to_have_attribute("data-state", "collected")
            shot(staff, "staff-parcels")
            staff.goto("/staff")
            staff.click("#staff-door-1")
            expect(staff.locator("#detail h2")).to_contain_text("Compartment 1")
            staff.fill("#oos-reason-1", "hinge is loose")
            staff.click("text=Take out of service")
            expect(staff.locator("#detail [data-state]")).to_have_attribute(
                "data-state", "out_of_service"
            )
            expect(staff.locator("#detail")).to_contain_text("hinge is loose")
            # the live front follows (it is redrawn every few seconds)
            expect(staff.locator("#staff-door-1")).to_have_class(re.compile("state-out_of_service"))
            expect(staff.locator("#staff-door-1")).to_have_class(re.compile("selected"))
            shot(staff, "staff")
            # the audit row reads as a sentence, in both languages, at the station's time
            staff.goto("/staff/audit?compartment=1")
            row = staff.locator("table.audit tr", has=staff.locator("[data-action$=of_service]"))
            expect(row.locator("[data-action]")).to_have_text(
                "Compartment 1 taken out of service: hinge is loose"
            )
            expect(row).to_contain_text(re.compile(r"2026-11-\d\d \d\d:\d\d CET"))
            shot(staff, "staff-audit")
            staff.goto("/staff/audit?compartment=1&lang=de")
            expect(row.locator("[data-action]")).to_have_text(
                "Fach 1 außer Betrieb genommen: hinge is loose"
            )
            staff.goto("/staff/audit?compartment=1&lang=en")
            for page in (courier, sim, kiosk, staff):
                no_script_errors(page)
        finally:
            screens.close()
