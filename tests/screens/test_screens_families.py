"""The kiosk and the maintenance screen in a real browser on the Modbus relay and the
8A/80 example layouts: a parcel stored through the API is collected at the kiosk, and
the maintenance screen shows the bus of that family."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from locker.layouts import example_path
from tests.api.live import live_station
from tests.screens.conftest import Screens, no_script_errors
from tests.screens.test_screens_kiosk import stored_parcel, type_code


@pytest.mark.parametrize(("example", "bus"), [("modbus_relay", "cold"), ("xor8a", "main")])
def test_collect_at_the_kiosk_on_each_family(
    example: str, bus: str, tmp_path: Path, browser: Browser
) -> None:
    text = example_path(example).read_text(encoding="utf-8")
    with live_station(tmp_path, layout=text) as live:
        compartment, pin = stored_parcel(live, f"TRK-{example}")
        screens = Screens(browser, live)
        try:
            kiosk = screens.open("/kiosk")
            type_code(kiosk, pin)
            expect(kiosk.locator("#result .message.good")).to_contain_text(
                f"Compartment {compartment} is open"
            )
            assert live.sim.is_open(compartment)
            assert live.sim.pulses(compartment) == 2
            no_script_errors(kiosk)
            staff = screens.signed_in("/staff", "staff")
            staff.goto("/staff/health")
            expect(staff.locator("table.buses")).to_contain_text(bus)
            no_script_errors(staff)
        finally:
            screens.close()
