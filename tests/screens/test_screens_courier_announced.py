"""The courier's screen and the parcels announced for the courier's carrier (issue 26), in a
real browser: the carrier announces parcels through the API, the screen lists them, a
typed or scanned tracking number picks one and that parcel is deposited, never a second
one beside it (an unknown number still makes a new parcel); and a deposit under way comes
back when the page is loaded again, first the open door, then the code."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from locker.store.tables import Parcel
from locker.types import ParcelState
from tests.api.http_helpers import API, SIZES, ok
from tests.api.live import LiveStation, live_station, wait_until
from tests.screens.conftest import Screens, no_script_errors


def door_opened(courier: Page) -> int:
    """The compartment the courier's screen says is open."""
    told = courier.locator("#work .message.good")
    expect(told).to_contain_text("is open")
    return int(re.findall(r"Compartment (\d+) is open", told.inner_text())[0])


def stored_with_code(live: LiveStation, courier: Page, compartment: int, code_for: str) -> None:
    """The hand puts the parcel in and shuts the door; the screen shows its code, once."""
    live.sim.put(compartment)
    live.sim.close(compartment)
    expect(courier.locator("[data-code-for]")).to_have_text(code_for)
    expect(courier.locator("[data-pin]")).to_have_text(re.compile(r"^\d{3} \d{3} \d{4}$"))
    assert len(live.ctx.handover) == 0  # taken, nothing left waiting


def parcels_numbered(live: LiveStation, tracking_number: str) -> list[tuple[int, ParcelState]]:
    with live.runtime.station.db.read() as session:
        rows = session.exec(
            select(Parcel.id, Parcel.state).where(Parcel.tracking_number == tracking_number)
        ).all()
    return [(pid or 0, ParcelState(state)) for pid, state in rows]


def test_an_announced_parcel_is_listed_picked_and_deposited_as_itself(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(tmp_path) as live:
        with live.client("courier") as api:
            grace = ok(
                api.post(
                    f"{API}/parcels",
                    json={
                        "tracking_number": "ANN-7001",
                        "recipient_name": "Grace Hopper",
                        "size": "S",
                        "amount_due": 1250,
                    },
                ),
                201,
            )
            alan = ok(
                api.post(
                    f"{API}/parcels",
                    json={
                        "tracking_number": "ANN-7002",
                        "recipient_name": "Alan Turing",
                        "size": "M",
                    },
                ),
                201,
            )
        with live.client("rival") as api:  # another carrier's: not this courier's list
            ok(
                api.post(
                    f"{API}/parcels",
                    json={"tracking_number": "RIVAL-1", "recipient_name": "Bo", "size": "S"},
                ),
                201,
            )
        screens = Screens(browser, live)
        try:
            courier = screens.signed_in("/courier", "courier")
            listed = courier.locator("#announced tr[data-announced]")
            expect(listed).to_have_count(2)
            cells = courier.locator("tr[data-announced='ANN-7001'] td")
            expect(cells.nth(0)).to_have_text("ANN-7001")
            expect(cells.nth(1)).to_have_text("Grace Hopper")
            expect(cells.nth(2)).to_have_text("S")
            expect(cells.nth(3)).to_have_text("to pay: EUR 12.50")
            expect(courier.locator("tr[data-announced='ANN-7002'] td").nth(3)).to_have_text("")
            expect(courier.locator("#announced")).not_to_contain_text("RIVAL-1")

            # scanned (a scanner types and ends with Enter): the number picks the announced
            # parcel, nothing else to type, and the next Enter deposits it
            courier.fill("#tracking_number", "ANN-7001")
            courier.press("#tracking_number", "Enter")
            match = courier.locator("[data-announced-match]")
            expect(match).to_have_attribute("data-announced-match", str(grace["id"]))
            expect(match).to_have_text(
                "Announced: ANN-7001 for Grace Hopper, size S. (to pay: EUR 12.50)"
            )
            expect(courier.locator("#deposit-announced")).to_be_focused()
            courier.keyboard.press("Enter")
            compartment = door_opened(courier)
            assert SIZES[compartment] == "S"  # as announced
            expect(listed).to_have_count(1)  # the list follows: that one is under way
            stored_with_code(live, courier, compartment, "Parcel ANN-7001 for Grace Hopper.")
            courier.click("#next-parcel")
            expect(courier.locator("#tracking_number")).to_be_focused()

            # the form filled in anyway and sent: still the announced parcel, as announced
            courier.fill("#tracking_number", "ANN-7002")
            courier.fill("#recipient_name", "Someone Typed")
            courier.click("text=Open a compartment")
            compartment = door_opened(courier)
            assert SIZES[compartment] == "M"
            stored_with_code(live, courier, compartment, "Parcel ANN-7002 for Alan Turing.")
            courier.click("#next-parcel")
            expect(courier.locator("#tracking_number")).to_be_focused()

            # an unknown number scanned: nothing offered, the recipient's field is next, and
            # a new parcel is made as before
            courier.fill("#tracking_number", "NEW-7003")
            courier.press("#tracking_number", "Enter")
            expect(courier.locator("#recipient_name")).to_be_focused()  # once answered
            expect(courier.locator("#announced-match")).to_be_empty()
            courier.fill("#recipient_name", "Ada Lovelace")
            courier.click("text=Open a compartment")
            compartment = door_opened(courier)
            stored_with_code(live, courier, compartment, "Parcel NEW-7003 for Ada Lovelace.")

            # one parcel for each number, the announced ones the very parcels announced
            assert parcels_numbered(live, "ANN-7001") == [(grace["id"], ParcelState.STORED)]
            assert parcels_numbered(live, "ANN-7002") == [(alan["id"], ParcelState.STORED)]
            [(_, state)] = parcels_numbered(live, "NEW-7003")
            assert state is ParcelState.STORED
            with live.client("courier") as api:
                assert ok(api.get(f"{API}/parcels/{grace['id']}"))["state"] == "stored"
            expect(courier.locator("#announced")).to_contain_text(  # none announced now
                "No parcel of Parcel Co is announced for this station."
            )
            no_script_errors(courier)
        finally:
            screens.close()


def test_a_deposit_under_way_comes_back_when_the_page_is_loaded_again(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(tmp_path) as live:
        screens = Screens(browser, live)
        try:
            courier = screens.signed_in("/courier", "courier")
            courier.fill("#tracking_number", "BACK-1")
            courier.fill("#recipient_name", "Katherine Johnson")
            courier.click("text=Open a compartment")
            compartment = door_opened(courier)

            # reloaded while the door stands open: that door again, waiting for it to shut
            courier.reload()
            expect(courier.locator("[data-resumed]")).to_have_text(
                f"Your deposit into compartment {compartment} is still under way."
            )
            expect(courier.locator("#work")).to_contain_text("Waiting for the door")
            expect(courier.locator(".front .door.mark-open")).to_have_text(str(compartment))
            assert live.sim.pulses(compartment) == 1  # shown again, not opened again
            stored_with_code(live, courier, compartment, "Parcel BACK-1 for Katherine Johnson.")
            courier.click("#next-parcel")
            expect(courier.locator("#tracking_number")).to_be_focused()

            # left for another page; the door shuts meanwhile; back: the code is there
            courier.fill("#tracking_number", "BACK-2")
            courier.fill("#recipient_name", "Dorothy Vaughan")
            courier.click("text=Open a compartment")
            compartment = door_opened(courier)
            courier.goto("/")
            live.sim.put(compartment)
            live.sim.close(compartment)
            wait_until(lambda: len(live.ctx.handover) == 1)  # stored by the door watcher
            courier.goto("/courier")
            expect(courier.locator("#work")).to_contain_text(f"Stored in compartment {compartment}")
            expect(courier.locator("[data-code-for]")).to_have_text(
                "Parcel BACK-2 for Dorothy Vaughan."
            )
            expect(courier.locator("[data-pin]")).to_have_text(re.compile(r"^\d{3} \d{3} \d{4}$"))
            assert len(live.ctx.handover) == 0
            courier.reload()  # handed over once: a reload shows the empty form
            expect(courier.locator("#tracking_number")).to_be_visible()
            expect(courier.locator("[data-pin]")).to_have_count(0)
            no_script_errors(courier)
        finally:
            screens.close()
