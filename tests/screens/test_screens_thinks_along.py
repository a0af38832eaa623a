"""The station thinking along, in a real browser with a real SMTP server: the shop puts
an order in from the maintenance screen and the customer gets the code by mail and
collects at the kiosk; a customer gives themselves more time at the kiosk; a customer
drops a return off with a return code and the carrier's courier takes it away."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.api.http_helpers import API, ok
from tests.api.live import live_station, wait_until
from tests.mail_support import qr_in, smtp_server, text_of
from tests.screens.conftest import Screens, no_script_errors, shot
from tests.screens.test_screens_kiosk import stored_parcel, type_code


def test_click_and_collect_with_the_code_by_mail(tmp_path: Path, browser: Browser) -> None:
    with (
        smtp_server() as server,
        live_station(
            tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            notify_every_s=0.05,
            shop_name="Corner Shop",
            opening_hours="Mo-Fr 9-18",
        ) as live,
    ):
        screens = Screens(browser, live)
        try:
            staff = screens.signed_in("/staff", "staff")
            staff.click("nav >> text=Click & collect")
            staff.fill("#order_number", "ORDER-77")
            staff.fill("#customer", "Emmy Noether")
            staff.fill("#email", "emmy@example.org")
            staff.select_option("#customer_language", "de")
            staff.locator(".sizes label", has_text="S").first.click()
            staff.click("text=Open a compartment")
            told = staff.locator("#order-work .message.good")
            expect(told).to_contain_text("is open")
            compartment = int(re.findall(r"Compartment (\d+) is open", told.inner_text())[0])
            live.sim.put(compartment)
            live.sim.close(compartment)
            expect(staff.locator("#order-work")).to_contain_text(
                f"Stored in compartment {compartment}. The customer is sent the code."
            )
            shot(staff, "staff-click-and-collect")
            wait_until(lambda: len(server.mailbox.to("emmy@example.org")) == 1)
            mail = server.mailbox.to("emmy@example.org")[0]
            assert mail["Subject"] == "Ihr Paket liegt bereit: Test station"
            body = text_of(mail)
            assert "Corner Shop" in body
            assert "Öffnungszeiten: Mo-Fr 9-18" in body
            pin = re.findall(r"Ihre PIN: (\d{3} \d{3} \d{4})\r?\n", body)[0]  # grouped; typed so
            assert qr_in(mail)  # a QR image that reads back

            kiosk = screens.open("/kiosk")
            type_code(kiosk, pin)
            expect(kiosk.locator("#result .message.good")).to_contain_text(
                f"Compartment {compartment} is open"
            )
            no_script_errors(staff)
        finally:
            screens.close()


def test_more_time_at_the_kiosk_and_a_return_dropped_off(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path) as live:
        _, pin = stored_parcel(live, "TRK-LATER")
        screens = Screens(browser, live)
        try:
            kiosk = screens.open("/kiosk")
            kiosk.keyboard.type(pin)
            kiosk.click("#kiosk-extend")
            expect(kiosk.locator("#result .message.good")).to_contain_text(
                "Done: your parcel waits until 2026-11-11 09:00"
            )
            expect(kiosk.locator("#code")).to_have_value("")
            kiosk.keyboard.type(pin)  # once only
            kiosk.click("#kiosk-extend")
            expect(kiosk.locator("#result .message.bad")).to_contain_text("more time already")

            # the carrier gives the customer a return code; the kiosk opens a compartment
            with live.client("courier") as courier:
                code = ok(
                    courier.post(f"{API}/return-codes", json={"reference": "RMA-5", "size": "M"}),
                    201,
                )
            kiosk.keyboard.type(code["pin"])
            kiosk.click("#kiosk-drop-off")
            told = kiosk.locator("#result .message.good")
            expect(told).to_contain_text("is open")
            expect(kiosk.locator("#result")).to_contain_text(
                "Put your parcel in and close the door"
            )
            compartment = int(re.findall(r"Compartment (\d+) is open", told.inner_text())[0])
            assert compartment in (3, 4, 9, 10)  # an M compartment
            shot(kiosk, "kiosk-return")
            kiosk.keyboard.type(code["pin"])  # a return code works once
            kiosk.click("#kiosk-drop-off")
            expect(kiosk.locator("#result .message.bad")).to_contain_text("does not open")
            live.sim.put(compartment)
            live.sim.close(compartment)

            # the return shows up for the carrier's courier, who takes it away
            courier_page = screens.signed_in("/courier", "courier")
            returns = courier_page.locator("#returns")
            expect(returns).to_contain_text("RMA-5")
            returns.locator("tr", has_text="RMA-5").locator("button").click()
            expect(courier_page.locator("#work .message.good")).to_contain_text(
                f"Compartment {compartment} is open"
            )
            with live.client("staff") as staff:
                found = ok(staff.get(f"{API}/parcels", params={"q": "RMA-5"}))
            assert [(p["kind"], p["state"]) for p in found] == [("return", "returned")]
            no_script_errors(kiosk)
        finally:
            screens.close()
