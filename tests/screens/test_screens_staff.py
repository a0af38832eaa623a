"""The maintenance, courier and simulator screens beyond the happy path, in a real
browser: expired parcels extended by staff and taken back by a courier, a door opened
with a reason, a fault injected on /sim that staff see and clear, the health page, a
parcel described by its dimensions whose door is reported stuck."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from locker.runtime.startup_check import check_doors
from locker.services import staff as staff_service
from locker.types import CompartmentId
from sim.faults import Fault
from tests.api.live import live_station
from tests.screens.conftest import Screens, no_script_errors, shot
from tests.screens.test_screens_kiosk import stored_parcel


def test_expired_parcels_doors_faults_and_health(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path) as live:
        kept, _ = stored_parcel(live, "TRK-KEEP")
        back, _ = stored_parcel(live, "TRK-BACK")
        live.clock.advance(days=8)  # past the 7-day deadline
        assert len(staff_service.expire(live.runtime.station).expired_parcels) == 2
        screens = Screens(browser, live)
        try:
            staff = screens.signed_in("/staff", "staff")

            # expired parcels: staff give one of them three more days
            staff.goto("/staff/expired")
            rows = staff.locator("#parcels-table tbody tr")
            expect(rows).to_have_count(2)
            keep_row = rows.filter(has_text="TRK-KEEP")
            keep_row.locator("button", has_text="Extend by 3 days").click()
            expect(keep_row).to_contain_text("may be collected until")
            expect(keep_row.locator("[data-state]")).to_have_attribute("data-state", "stored")
            shot(staff, "staff-expired")

            # the courier takes the other one back from the courier screen
            courier = screens.signed_in("/courier", "courier")
            returns = courier.locator("#returns")
            expect(returns).to_contain_text("TRK-BACK")
            expect(returns).not_to_contain_text("TRK-KEEP")
            pulses = live.sim.pulses(back)
            returns.locator("tr", has_text="TRK-BACK").locator("button").click()
            expect(courier.locator("#work .message.good")).to_contain_text(
                f"Compartment {back} is open"
            )
            assert live.sim.pulses(back) == pulses + 1

            # staff open a door with a reason; it is in the audit log with the reason
            staff.goto("/staff")
            staff.click(f"#staff-door-{kept}")
            expect(staff.locator("#detail [data-state]")).to_have_attribute(
                "data-state", "occupied"
            )
            expect(staff.locator("#detail")).to_contain_text("TRK-KEEP")
            pulses = live.sim.pulses(kept)
            staff.fill(f"#open-reason-{kept}", "customer at the counter")
            staff.click("text=Open the door")
            expect(staff.locator("#detail .message.good")).to_have_text(
                f"Compartment {kept} opened."
            )
            assert live.sim.pulses(kept) == pulses + 1
            staff.goto("/staff/audit?action=door.")
            expect(staff.locator("table.audit")).to_contain_text("customer at the counter")

            # a closed door's latch sticks (injected on /sim): it does not open, shows as faulty
            sim = screens.sim()
            sim.click("#sim-door-7")
            sim.select_option("#sim-fault", "stuck_latch")
            sim.click("#sim-inject")
            expect(sim.locator("[data-sim-faults]")).to_have_attribute(
                "data-sim-faults", "stuck_latch"
            )
            staff.goto("/staff?c=7")
            expect(staff.locator("#detail h2")).to_contain_text("Compartment 7")
            staff.fill("#open-reason-7", "check")
            staff.click("text=Open the door")
            expect(staff.locator("#detail .message.bad")).to_contain_text("did not open")
            expect(staff.locator("#detail [data-state]")).to_have_attribute("data-state", "fault")
            expect(staff.locator("#staff-door-7")).to_have_class(re.compile("state-fault"))
            staff.goto("/staff/health")
            expect(staff.locator("main")).to_contain_text("Every board answers.")
            expect(staff.locator("table.buses")).to_contain_text("main")
            alerts = staff.locator("main ul.alerts")
            expect(alerts).to_contain_text("Compartment 7")
            expect(alerts).to_contain_text(re.compile(r"\d\d:\d\d UTC · Door fault"))  # not a code
            shot(staff, "staff-health")

            # repaired on /sim, and put back into service by staff
            sim.click("#sim-repair")
            expect(sim.locator("[data-sim-faults]")).to_have_attribute("data-sim-faults", "")
            staff.goto("/staff?c=7")
            staff.fill("#clear-note-7", "latch replaced")
            staff.click("text=Back into service")
            expect(staff.locator("#detail [data-state]")).to_have_attribute("data-state", "free")

            # the maintenance screen in German
            staff.click("a.lang[lang=de]")
            expect(staff.locator(".brand")).to_contain_text("Wartung")
            expect(staff.locator("#detail")).to_contain_text("Wählen Sie ein Fach")
            for page in (staff, courier, sim):
                no_script_errors(page)
        finally:
            screens.close()


def test_a_parcel_by_its_dimensions_and_a_stuck_door(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path) as live:
        screens = Screens(browser, live)
        try:
            courier = screens.signed_in("/courier", "courier")
            courier.fill("#tracking_number", "TRK-DIMS")
            courier.fill("#recipient_name", "Alan Turing")
            courier.locator(".sizes label", has_text="mm").click()
            courier.fill("#width_mm", "300")
            courier.fill("#height_mm", "300")
            courier.fill("#depth_mm", "400")
            courier.click("text=Open a compartment")
            told = courier.locator("#work .message.good")
            expect(told).to_contain_text("is open")
            first = int(re.findall(r"Compartment (\d+) is open", told.inner_text())[0])
            assert first in (5, 11)  # 300 mm high: only the L compartments (410 mm) fit best

            # the door did not open after all: another compartment opens
            courier.click("text=The door did not open")
            expect(told).not_to_contain_text(f"Compartment {first} ")
            second = int(re.findall(r"Compartment (\d+) is open", told.inner_text())[0])
            assert second != first
            assert live.sim.pulses(second) == 1

            # "I closed the door" too early: the station says the door is still open
            courier.click("text=I closed the door")
            expect(courier.locator("#work .message.bad")).to_contain_text("still open")
            live.sim.put(second)
            live.sim.close(second)
            courier.click("text=I closed the door")
            expect(courier.locator("#work")).to_contain_text(f"Stored in compartment {second}")
            expect(courier.locator("[data-pin]")).to_have_text(re.compile(r"^\d{3} \d{3} \d{4}$"))

            staff = screens.signed_in("/staff", "staff")
            expect(staff.locator(f"#staff-door-{first}")).to_have_class(re.compile("state-fault"))
            expect(staff.locator(f"#staff-door-{second}")).to_have_class(
                re.compile("state-occupied")
            )
            no_script_errors(courier)
        finally:
            screens.close()


def test_the_health_page_says_how_a_board_did_not_answer(tmp_path: Path, browser: Browser) -> None:
    with live_station(tmp_path, background=False) as live:
        screens = Screens(browser, live)
        try:
            staff = screens.signed_in("/staff", "staff")
            staff.goto("/staff/health")
            rows = staff.locator("table.boards tbody tr")
            expect(rows).to_have_count(2)
            expect(rows.nth(1)).to_have_attribute("data-last-failure", "")

            live.sim.inject(11, Fault.CORRUPT_BYTE)  # board 1's answers fail their checksum
            live.runtime.locks.read()  # what the door watcher does: one whole-bus read
            staff.reload()
            board1 = staff.locator("table.boards tr[data-board='1']")
            expect(board1).to_have_attribute("data-last-failure", "bad_checksum")
            expect(board1).to_contain_text("bad checksum, 3 of 3 tries")
            # and in a sentence above: which bus, which board, what failed
            said = staff.locator("ul.bus-said li")
            expect(said).to_have_count(1)
            expect(said).to_contain_text(
                "Bus main: board 1: bad checksum, 3 of 3 tries (last read)"
            )
            expect(said).to_contain_text("since start: 3 × bad checksum")
            staff.goto("/staff/health?lang=de")
            expect(said).to_contain_text(
                "Bus main: Steuerung 1: Prüfsumme falsch, 3 von 3 Versuchen (letzte Abfrage)"
            )
            staff.goto("/staff/health?lang=en")
            expect(staff.locator("table.boards tr[data-board='0']")).to_have_attribute(
                "data-last-failure", ""
            )

            live.sim.repair(11)
            live.sim.inject(11, Fault.TRUNCATED)  # now its answers are cut short
            live.runtime.locks.read()
            staff.reload()
            expect(board1).to_have_attribute("data-last-failure", "torn_frame")
            expect(board1).to_contain_text("answer cut short, 3 of 3 tries")
            expect(board1).to_contain_text("bad checksum: 1 · torn frame: 1")
            shot(staff, "staff-health-boards")
            no_script_errors(staff)

            # what `locker serve` says of the doors at start: one line, however many, with
            # every compartment that needs a look named (board 1 is still cut short)
            live.runtime.locks.open(CompartmentId(2))  # the spring pushes it ajar
            assert check_doors(live.runtime.station) == (
                "12 compartments checked: 5 ok, 7 need attention: 2 (door open), "
                + ", ".join(f"{cid} (no answer)" for cid in range(7, 13))
            )
        finally:
            screens.close()
