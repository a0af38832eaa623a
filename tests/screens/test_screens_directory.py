"""The directory in a real browser: staff keep it on the maintenance screen (add, a field
that does not pass, CSV import with its report, search, change, export), and the courier
finds the person on the courier's form, or deposits for nobody found, which staff then
assign to a person."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from locker.people import directory, directory_csv, directory_search
from locker.people.person import Person
from locker.store.tables import Parcel
from tests.api.live import LiveStation, live_station
from tests.screens.conftest import Screens, no_script_errors, shot

PEOPLE = (
    "name;unit;email;phone;language;needs_accessible;notify_by;staff_note\n"
    "Jürgen Groß;4.01;juergen@example.org;+49 170 1234567;de;ja;both;\n"
    "Käthe Müller;4.02;kaethe@example.org;;de;nein;mail;rings twice\n"
    "Oliver Smith;5.01;oliver@example.org;;en;no;mail;\n"
    "Emma Jones;5.02;emma@example.org;;en;no;mail;\n"
)
BROKEN = (
    "name,unit,email,notify_by\n"
    "Anna Weiß,6.01,anna@example.org,mail\n"
    ",6.02,x@example.org,mail\n"
    "Ben Koch,6.03,ben@,mail\n"
)


def _import(staff: Page, name: str, text: str) -> None:
    staff.set_input_files(
        "#dir-file", files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}]
    )
    staff.click("#dir-import button[type=submit]")


def test_staff_keep_the_directory_on_the_maintenance_screen(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(tmp_path, background=False) as live:
        screens = Screens(browser, live)
        try:
            staff = screens.signed_in("/staff", "staff")
            staff.click("nav >> text=Directory")
            expect(staff.locator("h1")).to_have_text("Directory")
            expect(staff.locator("#people")).to_contain_text("Nobody is in the directory yet.")

            # a file with bad lines imports nothing, and says which and why
            _import(staff, "broken.csv", BROKEN)
            report = staff.locator("#import-report [data-import=rejected]")
            expect(report).to_contain_text("2 line(s) rejected; nothing was imported.")
            expect(report.locator("[data-line='3']")).to_contain_text("Name: needed")
            expect(report.locator("[data-line='4']")).to_contain_text("Email: not an email address")
            assert directory.count(live.runtime.station) == 0
            _import(staff, "people.csv", PEOPLE)
            expect(staff.locator("#import-report [data-import=done]")).to_contain_text(
                "Imported: 4 added, 0 changed."
            )
            expect(staff.locator("#people tbody tr")).to_have_count(4)  # the list reloaded

            # added with the keyboard; a field that does not pass is named
            staff.focus("#p-name")
            staff.keyboard.type("Ada Lovelace")
            staff.keyboard.press("Tab")
            staff.keyboard.type("3.12")
            staff.select_option("#p-notify", "sms")
            staff.focus("#p-note")
            staff.keyboard.type("leave with the concierge")
            staff.click("#person button[type=submit]")
            expect(staff.locator("#person-form [role=alert]")).to_contain_text(
                "Phone: needed to tell them by sms"
            )
            # the form came back with the alert; htmx wires it at the settle after the
            # swap, and an Enter before that would submit it without htmx
            expect(staff.locator("#person-form")).not_to_have_class(re.compile("htmx-settling"))
            staff.fill("#p-phone", "+44 20 7946 0001")
            staff.locator("#p-phone").press("Enter")
            expect(staff.locator("#person-form [role=status]")).to_contain_text(
                "Ada Lovelace was added."
            )
            expect(staff.locator("#people tbody tr")).to_have_count(5)

            # the tolerant search, then a change
            staff.fill("#dir-q", "mueller kathe")
            first = staff.locator("#people tbody tr").first
            expect(first).to_contain_text("Käthe Müller")
            first.locator("button").click()
            expect(staff.locator("#person h2")).to_have_text("Change a person")
            expect(staff.locator("#p-note")).to_have_value("rings twice")
            staff.fill("#p-unit", "4.03")
            staff.click("#person button[type=submit]")
            expect(staff.locator("#person-form [role=status]")).to_contain_text(
                "Käthe Müller was saved."
            )
            expect(staff.locator("#people tbody tr").first).to_contain_text("4.03")
            staff.fill("#dir-q", "")
            expect(staff.locator("#people tbody tr")).to_have_count(5)
            shot(staff, "staff-directory")

            with staff.expect_download() as download:
                staff.click("#dir-export")
            exported = Path(download.value.path()).read_text()
            assert exported.splitlines()[0].startswith("id,name,unit")
            assert "Käthe Müller,4.03" in exported

            # in German
            staff.goto("/staff/directory?lang=de")
            expect(staff.locator("h1")).to_have_text("Verzeichnis")
            expect(staff.locator("label[for=p-notify]")).to_have_text("Benachrichtigen per")
            no_script_errors(staff)
        finally:
            screens.close()


def _deposit(courier: Page, tracking: str, typed: str) -> None:
    courier.fill("#tracking_number", tracking)
    courier.fill("#recipient_name", typed)


def _opened(courier: Page) -> int:
    told = courier.locator("#work .message.good")
    expect(told).to_contain_text("is open")
    return int(re.findall(r"Compartment (\d+) is open", told.inner_text())[0])


def _parcel(live: LiveStation, tracking: str) -> Parcel:
    with live.runtime.station.db.read() as session:
        found = list(session.exec(select(Parcel).where(Parcel.tracking_number == tracking)))
    assert len(found) == 1
    return found[0]


def test_the_courier_finds_the_person_or_deposits_for_nobody_found(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(tmp_path) as live:
        station = live.runtime.station
        directory_csv.import_csv(station, PEOPLE, actor="test")
        juergen = directory_search.search(station, "Jürgen Groß")[0]
        screens = Screens(browser, live)
        try:
            courier = screens.signed_in("/courier", "courier")
            expect(courier.locator("#recipient_email")).to_have_count(0)  # never typed
            _deposit(courier, "TRK-DIR-1", "jurgen gros")
            matches = courier.locator("#matches .match")
            expect(matches.first).to_contain_text("Jürgen Groß · 4.01")
            expect(courier.locator("[data-match=unknown]")).to_be_checked()  # until one is picked
            # with the keyboard: the first match, then Space
            courier.focus(f"[data-match='{juergen.recipient_id}']")
            courier.keyboard.press("Space")
            expect(courier.locator(f"[data-match='{juergen.recipient_id}']")).to_be_checked()
            shot(courier, "courier-directory")
            courier.click("text=Open a compartment")
            compartment = _opened(courier)
            live.sim.put(compartment)
            live.sim.close(compartment)
            expect(courier.locator("[data-pin]")).to_have_text(re.compile(r"^\d{3} \d{3} \d{4}$"))
            stored = _parcel(live, "TRK-DIR-1")
            assert stored.recipient_id == juergen.recipient_id
            assert (stored.recipient_email, stored.recipient_language) == (
                "juergen@example.org",
                "de",
            )
            assert stored.needs_accessible  # from the directory
            assert stored.notify_by == "both"

            # a label scanned into the field ends with Enter: that searches (it does not send
            # the form for nobody found), chooses the best match; the next Enter deposits
            courier.click("#next-parcel")
            courier.fill("#tracking_number", "TRK-DIR-SCAN")
            courier.focus("#recipient_name")
            courier.keyboard.type("Kaethe Mueller 4.02 Lindenstr. 7\n")
            kaethe = directory_search.search(station, "Käthe Müller")[0]
            chosen = courier.locator(f"[data-match='{kaethe.recipient_id}']")
            expect(chosen).to_be_checked()
            expect(chosen).to_be_focused()
            expect(courier.locator("#work .message.good")).to_have_count(0)  # nothing sent yet
            courier.keyboard.press("Enter")
            scanned = _opened(courier)
            live.sim.put(scanned)
            live.sim.close(scanned)
            expect(courier.locator("[data-pin]")).to_have_count(1)
            assert _parcel(live, "TRK-DIR-SCAN").recipient_id == kaethe.recipient_id

            # nobody found: "none of these" stays chosen, the parcel is stored without a code
            courier.click("#next-parcel")
            expect(courier.locator("#tracking_number")).to_be_focused()
            _deposit(courier, "TRK-DIR-2", "Zacharias Quast")
            expect(courier.locator("#matches")).to_contain_text("Nobody in the directory matches.")
            courier.click("text=Open a compartment")
            second = _opened(courier)
            live.sim.put(second)
            live.sim.close(second)
            expect(courier.locator("[data-recipient-unknown]")).to_contain_text(
                "The recipient is not in the directory"
            )
            expect(courier.locator("[data-pin]")).to_have_count(0)
            unknown = _parcel(live, "TRK-DIR-2")
            assert unknown.recipient_unknown
            assert unknown.code_id is None

            # staff see it on the directory page and assign it to a person
            directory.create(
                station,
                Person(name="Zacharias Quast-Ohm", unit="7.01", email="zq@example.org"),
                actor="test",
            )
            staff = screens.signed_in("/staff", "staff")
            staff.goto("/staff/directory")
            row = staff.locator(f"[data-unknown='{unknown.id}']")
            expect(row).to_contain_text("the label says “Zacharias Quast”")
            row.locator("input[type=search]").fill("quast zacharias")
            expect(row.locator(".match").first).to_contain_text("Zacharias Quast-Ohm")
            shot(staff, "staff-directory-unknown")
            row.locator("text=Assign and tell them").click()
            expect(staff.locator(f"[data-unknown='{unknown.id}']")).to_contain_text(
                f"Parcel {unknown.id} is now for Zacharias Quast-Ohm, who is being told."
            )
            assigned = _parcel(live, "TRK-DIR-2")
            assert not assigned.recipient_unknown
            assert assigned.code_id is not None
            assert assigned.recipient_email == "zq@example.org"
            for page in (courier, staff):
                no_script_errors(page)
        finally:
            screens.close()
