"""The demo's fridge in a real browser: the demo layout (what `make run` serves) on its
simulator, its XY-MD02 read over the simulated Modbus bus by the real driver in the door
watcher's loop. On the simulator's screen, with the keyboard alone, staff warm the fridge
out of its band, watch it go out of band (the station's clock moved past the setting) and
take no chilled parcel, cool it back, set a temperature and silence the thermometer."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

import locker
from locker.cold.tables import ColdGroupState
from tests.api.http_helpers import API, parcel, problem
from tests.api.live import LiveStation, live_station, wait_until
from tests.screens.conftest import Screens, no_script_errors

DEMO = Path(locker.__file__).parent / "demo_layout.toml"
SENSOR = "fridge-sensor"
READ_S = 30


def _status(live: LiveStation) -> str:
    with live.runtime.station.db.read() as session:
        row = session.get(ColdGroupState, "fridge")
    return row.status if row is not None else "none"


def _press(page: Page, button: str, key: str = "Enter") -> None:
    page.locator(button).focus()
    page.keyboard.press(key)


def test_the_demo_fridge_goes_out_of_band_and_back_from_the_simulators_screen(
    tmp_path: Path, browser: Browser
) -> None:
    with live_station(
        tmp_path, layout=DEMO.read_text(encoding="utf-8"), cold_read_s=READ_S
    ) as live:
        wait_until(lambda: _status(live) == "ok")  # the loop's first read: 5 °C
        screens = Screens(browser, live)
        try:
            sim = screens.sim()
            panel = sim.locator(f"[data-sim-sensor={SENSOR}]")
            expect(panel).to_contain_text("Thermometer fridge-sensor (bus cold, address 1)")
            expect(panel).to_contain_text("It reads 5.0 °C")
            expect(panel).to_contain_text(
                "Cold group fridge (Chilled, 2–8 °C, compartments 11, 12)"
            )
            expect(panel.locator("[data-cold-status]")).to_have_attribute("data-cold-status", "ok")

            _press(sim, f"#sim-warm-{SENSOR}")
            expect(panel).to_contain_text("It reads 12.0 °C")
            assert live.runtime.thermometers[SENSOR].read_celsius() == 12.0
            live.clock.advance(seconds=READ_S + 1)
            wait_until(lambda: live.sim.temperature(SENSOR) == 12.0 and _last(live) == 12.0)
            live.clock.advance(minutes=10)
            expect(panel.locator("[data-cold-status]")).to_have_attribute(
                "data-cold-status", "out_of_band"
            )
            expect(panel).to_contain_text("OUT OF BAND: takes no new parcels")
            with live.client("courier") as courier:
                body = {"parcel": parcel("DEMO-COLD", size="M", cold="chilled")}
                problem(
                    courier.post(f"{API}/deposits", json=body), 409, "no_free_chilled_compartment"
                )

            _press(sim, f"#sim-cool-{SENSOR}", " ")
            expect(panel).to_contain_text("It reads 5.0 °C")
            live.clock.advance(seconds=READ_S + 1)
            expect(panel.locator("[data-cold-status]")).to_have_attribute("data-cold-status", "ok")

            field = sim.locator(f"#sim-celsius-{SENSOR}")
            field.focus()
            field.fill("3.5")
            sim.keyboard.press("Enter")
            expect(panel).to_contain_text("It reads 3.5 °C")
            assert live.runtime.thermometers[SENSOR].read_celsius() == 3.5

            _press(sim, f"#sim-silence-{SENSOR}")
            expect(panel).to_contain_text("It does not answer.")
            assert live.runtime.thermometers[SENSOR].read_celsius() is None
            _press(sim, f"#sim-answer-{SENSOR}")
            expect(panel).to_contain_text("It reads 3.5 °C")
            no_script_errors(sim)
        finally:
            screens.close()


def _last(live: LiveStation) -> float | None:
    with live.runtime.station.db.read() as session:
        row = session.get(ColdGroupState, "fridge")
    return row.last_c if row is not None else None
