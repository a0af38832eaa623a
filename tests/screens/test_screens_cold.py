"""Cooled compartments in a real browser: the maintenance screen draws each cold group's
temperature, band and last day as an inline SVG chart (under the screens' strict CSP),
and the courier's screen refuses a chilled parcel when the fridge is out of its band (and
marks a chilled one announced in its list)."""

from __future__ import annotations

import math
from pathlib import Path

from playwright.sync_api import Browser, expect
from sqlmodel import select

from locker.cold.watch import ColdWatch
from locker.store.tables import Parcel
from locker.testkit.thermometers import SettableThermometer
from locker.types import ParcelState
from tests.api.http_helpers import API, ok
from tests.api.live import LiveStation, live_station
from tests.cold_support import live_cold_layout
from tests.screens.conftest import Screens, no_script_errors


def _a_day_then_too_warm(live: LiveStation, fridge: SettableThermometer) -> None:
    """Three hours of a fridge at 3..7 °C, a quarter of an hour silent, then 12 °C for 12 min."""
    watch = ColdWatch(live.runtime.station)
    for minute in range(180):
        fridge.set(5.0 + 2 * math.sin(minute / 20))
        watch.tick()
        live.clock.advance(minutes=1)
    fridge.mute()
    for _ in range(15):
        watch.tick()
        live.clock.advance(minutes=1)
    fridge.mute(False)
    fridge.set(12.0)
    for _ in range(12):
        watch.tick()
        live.clock.advance(minutes=1)


def test_the_fridge_out_of_band_on_both_screens(tmp_path: Path, browser: Browser) -> None:
    fridge = SettableThermometer(5.0)
    with live_station(
        tmp_path,
        background=False,
        layout=live_cold_layout(),
        thermometers={"fridge-sensor": fridge},
    ) as live:
        _a_day_then_too_warm(live, fridge)
        screens = Screens(browser, live)
        try:
            staff = screens.signed_in("/staff", "staff")
            group = staff.locator("[data-cold-group=fridge]")
            expect(group).to_have_attribute("data-cold-status", "out_of_band")
            expect(group.get_by_role("alert")).to_contain_text("OUT OF BAND")
            expect(group).to_contain_text("band 2–8 °C")
            expect(group).to_contain_text("now 12.0 °C")
            chart = group.locator("svg.cold-chart")
            expect(chart).to_be_visible()
            expect(chart).to_have_attribute(
                "aria-label", "fridge: temperature over the last 24 hours, band 2–8 °C"
            )
            assert chart.locator("rect.band").count() == 1
            assert chart.locator("rect.silent").count() >= 2  # the quarter hour without answer
            lines = chart.locator("polyline.temperature")
            assert lines.count() == 2  # broken where the thermometer was silent
            assert len(lines.first.get_attribute("points").split()) >= 30  # type: ignore[union-attr]
            box = chart.bounding_box()
            assert box is not None
            assert box["width"] > 100
            assert box["height"] > 30
            no_script_errors(staff)  # the inline SVG passes the Content-Security-Policy

            with live.client("courier") as api:  # announced chilled: marked so in the list
                chilled = {"tracking_number": "ANN-COLD-1", "recipient_name": "Emmy Noether"}
                ok(
                    api.post(f"{API}/parcels", json={**chilled, "size": "S", "cold": "chilled"}),
                    201,
                )
            courier = screens.signed_in("/courier", "courier")
            marks = courier.locator("tr[data-announced='ANN-COLD-1'] td").nth(3)
            expect(marks).to_have_text("cold: Chilled")
            courier.fill("#tracking_number", "TRK-COLD-1")
            courier.fill("#recipient_name", "Grace Hopper")
            courier.get_by_text("Chilled", exact=True).click()
            courier.click("text=Open a compartment")
            said = courier.locator("#work")
            expect(said).to_contain_text("No chilled compartment takes this parcel now")
            expect(said).to_contain_text("never goes into an ordinary compartment")
            with live.runtime.station.db.read() as session:
                held = session.exec(
                    select(Parcel).where(Parcel.state == ParcelState.RESERVED)
                ).all()
            assert held == []  # nothing held, no ambient door opened instead
            assert all(live.sim.pulses(c) == 0 for c in range(1, 6))
            no_script_errors(courier)
        finally:
            screens.close()
