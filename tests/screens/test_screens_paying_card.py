"""Paying by card at the kiosk in a real browser (Chromium), the station's own ZVT client
talking TCP to the terminal simulator started inside the live station
(``LOCKER_ZVT_HOST=sim``): the terminal's texts on the screen, approval and the door's
pulse, and each way it can go wrong (declined, walked away, busy, the link lost after
approval, no completion), in English by the keyboard alone and in German by touch alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from sim.zvt import TerminalSim, ZvtFault, ZvtTimes
from tests.api.http_helpers import StoredParcel, store
from tests.api.live import LiveStation, live_station, wait_until
from tests.screens.conftest import VIEWPORT, WAIT_MS, Screens, no_script_errors, shot
from tests.screens.test_screens_kiosk import type_code

SLOW = 600.0  # a customer who only moves on when the test says so (TerminalSim.step)


@pytest.fixture
def card_station(tmp_path: Path) -> Iterator[LiveStation]:
    with live_station(
        tmp_path,
        zvt_host="sim",
        zvt_completion_timeout_s=0.5,  # "the completion never comes" ends soon
        zvt_payment_timeout_s=20,
    ) as live:
        terminal(live).times = ZvtTimes.zero()
        yield live


def terminal(live: LiveStation) -> TerminalSim:
    assert live.runtime.zvt_sim is not None
    return live.runtime.zvt_sim


def _parcel(live: LiveStation, tracking: str, cents: int) -> StoredParcel:
    with live.client("courier") as courier:
        return store(live, courier, tracking=tracking, amount_due=cents)


def _tab_to(page: Page, element_id: str) -> None:
    for _ in range(25):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} is not reached by Tab")


def _keyboard_kiosk(browser: Browser, live: LiveStation) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=live.base_url, viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    page.goto("/kiosk")
    return context, page


def _touch_kiosk(browser: Browser, live: LiveStation) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        base_url=live.base_url, viewport=VIEWPORT, locale="de-DE", has_touch=True
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto("/kiosk?lang=de")
    return context, page


def _pay_by_keyboard(kiosk: Page, pin: str) -> None:
    type_code(kiosk, pin)
    expect(kiosk.locator("#pay-card")).to_be_visible()
    _tab_to(kiosk, "pay-card")
    kiosk.keyboard.press("Enter")


def _pay_by_touch(kiosk: Page, pin: str) -> None:
    for digit in pin:
        kiosk.tap(f"button[data-key='{digit}']")
    kiosk.tap("#collect button[type=submit]")
    kiosk.tap("#pay-card")


def reversal_frames(sim: TerminalSim, receipt: int) -> list[str]:
    """The reversals (06 30) the terminal got for ``receipt`` (bitmap 87, BCD)."""
    digits = f"{receipt:04d}"
    tail = f"87 {digits[:2]} {digits[2:]}"
    return [f for f in sim.frames_received() if f.startswith("06 30") and f.endswith(tail)]


def _settled(live: LiveStation) -> None:
    """The terminal has seen the end of every connection."""
    wait_until(lambda: terminal(live).connections == 0)


def test_card_payment_shows_the_terminal_texts_and_opens_the_door_by_keyboard(
    card_station: LiveStation, browser: Browser
) -> None:
    live = card_station
    sim = terminal(live)
    sim.times = ZvtTimes(card_s=SLOW, pin_s=SLOW, host_s=0, ack_timeout_s=2.0)
    parcel = _parcel(live, "CARD-K", 2040)
    context, kiosk = _keyboard_kiosk(browser, live)
    try:
        _pay_by_keyboard(kiosk, parcel.pin)
        said = kiosk.locator("[data-terminal-text]")
        expect(said).to_have_text("Insert card")
        expect(kiosk.locator("[data-card-amount]")).to_have_text("To pay: EUR 20.40")
        assert live.sim.pulses(parcel.compartment_id) == 1  # only the courier's
        shot(kiosk, "kiosk-card-insert")
        sim.step()  # the card is in
        expect(said).to_have_text("Please watch the PIN pad")
        assert live.sim.pulses(parcel.compartment_id) == 1
        sim.step()  # the PIN typed
        expect(kiosk.locator("#result .message.good")).to_contain_text(
            f"Compartment {parcel.compartment_id} is open"
        )
        assert live.sim.pulses(parcel.compartment_id) == 2
        [paid] = sim.journal
        assert (paid.amount_cents, paid.reversed_by) == (2040, None)
        no_script_errors(kiosk)
    finally:
        context.close()


def test_card_payment_in_german_by_touch(card_station: LiveStation, browser: Browser) -> None:
    live = card_station
    sim = terminal(live)
    sim.times = ZvtTimes(card_s=SLOW, pin_s=SLOW, host_s=0, ack_timeout_s=2.0)
    parcel = _parcel(live, "CARD-T", 999)
    context, kiosk = _touch_kiosk(browser, live)
    try:
        _pay_by_touch(kiosk, parcel.pin)
        said = kiosk.locator("[data-terminal-text]")
        expect(kiosk.locator("[data-card-payment]")).to_contain_text("Kartenterminal")
        expect(said).to_have_text("Karte einstecken")
        expect(kiosk.locator("[data-card-amount]")).to_have_text("Zu zahlen: 9,99 EUR")
        sim.step()
        expect(said).to_have_text("Bitte PIN eingeben")
        sim.step()
        expect(kiosk.locator("#result .message.good")).to_contain_text(
            f"Fach {parcel.compartment_id}"
        )
        shot(kiosk, "kiosk-card-paid-de")
        assert live.sim.pulses(parcel.compartment_id) == 2
        assert sim.taken_cents() == 999
    finally:
        context.close()


def test_declined_says_so_and_offers_a_way_out_by_keyboard(
    card_station: LiveStation, browser: Browser
) -> None:
    live = card_station
    sim = terminal(live)
    sim.faults.add(ZvtFault.DECLINED)
    parcel = _parcel(live, "CARD-D", 1500)
    context, kiosk = _keyboard_kiosk(browser, live)
    try:
        _pay_by_keyboard(kiosk, parcel.pin)
        failed = kiosk.locator("[data-card-failed]")
        expect(failed).to_contain_text("did not go through (declined by the card issuer)")
        expect(failed).to_contain_text("Nothing was charged")
        assert live.sim.pulses(parcel.compartment_id) == 1
        assert sim.taken_cents() == 0
        assert sim.journal == []
        # The way out: the same card again (now approved), by the keyboard alone.
        sim.faults.clear()
        _tab_to(kiosk, "pay-card-again")
        kiosk.keyboard.press("Enter")
        expect(kiosk.locator("#result .message.good")).to_contain_text(
            f"Compartment {parcel.compartment_id} is open"
        )
        assert live.sim.pulses(parcel.compartment_id) == 2
        assert sim.taken_cents() == 1500
        no_script_errors(kiosk)
    finally:
        context.close()


def test_declined_in_german_and_back_by_touch(card_station: LiveStation, browser: Browser) -> None:
    live = card_station
    terminal(live).faults.add(ZvtFault.DECLINED)
    parcel = _parcel(live, "CARD-DT", 500)
    context, kiosk = _touch_kiosk(browser, live)
    try:
        _pay_by_touch(kiosk, parcel.pin)
        expect(kiosk.locator("[data-card-failed]")).to_contain_text("Es wurde nichts abgebucht")
        kiosk.tap("#pay-card-back")
        expect(kiosk.locator("#code")).to_be_visible()
        expect(kiosk.locator("[data-card-failed]")).to_have_count(0)
        assert live.sim.pulses(parcel.compartment_id) == 1
    finally:
        context.close()


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        pytest.param(ZvtFault.WALK_AWAY, "timed out", id="walk-away"),
        pytest.param(ZvtFault.BUSY, "terminal busy", id="busy"),
    ],
)
def test_nothing_opens_when_the_customer_walks_away_or_the_terminal_is_busy(
    card_station: LiveStation, browser: Browser, fault: ZvtFault, words: str
) -> None:
    live = card_station
    sim = terminal(live)
    sim.faults.add(fault)
    parcel = _parcel(live, f"CARD-{fault.value}", 800)
    context, kiosk = _keyboard_kiosk(browser, live)
    try:
        _pay_by_keyboard(kiosk, parcel.pin)
        expect(kiosk.locator("[data-card-failed]")).to_contain_text(words)
        expect(kiosk.locator("#pay-card-back")).to_be_visible()
        assert live.sim.pulses(parcel.compartment_id) == 1
        assert sim.journal == []
        with live.client("staff") as staff:
            due = staff.get("/api/v1/payments/unpaid").json()
        assert parcel.id in [p["parcel_id"] for p in due]  # still owed
    finally:
        context.close()


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(ZvtFault.LOST_AFTER_APPROVAL, id="lost-after-approval"),
        pytest.param(ZvtFault.NO_COMPLETION, id="no-completion"),
    ],
)
def test_money_taken_without_the_end_is_reversed_and_nothing_opens(
    card_station: LiveStation, browser: Browser, fault: ZvtFault
) -> None:
    live = card_station
    sim = terminal(live)
    sim.faults.add(fault)
    parcel = _parcel(live, f"CARD-{fault.value}", 1234)
    context, kiosk = _keyboard_kiosk(browser, live)
    try:
        _pay_by_keyboard(kiosk, parcel.pin)
        expect(kiosk.locator("[data-card-failed]")).to_contain_text("Nothing was charged")
        _settled(live)
        assert live.sim.pulses(parcel.compartment_id) == 1
        [payment] = sim.journal
        assert payment.reversed_by is not None  # the terminal took it, the station gave it back
        assert sim.taken_cents() == 0
        assert reversal_frames(sim, payment.receipt)
    finally:
        context.close()


def test_paid_but_no_door_opens_the_payment_is_reversed_at_the_terminal(
    card_station: LiveStation, browser: Browser
) -> None:
    live = card_station
    sim = terminal(live)
    parcel = _parcel(live, "CARD-JAM", 2500)
    live.sim.jam(parcel.compartment_id)  # the lock will not move
    context, kiosk = _keyboard_kiosk(browser, live)
    try:
        _pay_by_keyboard(kiosk, parcel.pin)
        expect(kiosk.locator("#result .message.bad").first).to_have_text(
            f"Compartment {parcel.compartment_id} did not open."
        )
        expect(kiosk.locator("[data-card-back]")).to_contain_text("nothing is charged")
        _settled(live)
        [payment] = sim.journal
        assert payment.amount_cents == 2500
        assert payment.reversed_by is not None  # given back at once, by its receipt number
        assert reversal_frames(sim, payment.receipt)
        assert sim.taken_cents() == 0
        with live.client("staff") as staff:
            due = staff.get("/api/v1/payments/unpaid").json()
            alerts = staff.get("/api/v1/alerts").json()
        assert parcel.id in [p["parcel_id"] for p in due]  # owed again, nothing kept
        assert not [a for a in alerts if a["kind"] == "payment_refund"]
    finally:
        context.close()


def test_paid_no_door_and_the_reversal_refused_staff_get_what_they_need(
    card_station: LiveStation, browser: Browser
) -> None:
    live = card_station
    sim = terminal(live)
    sim.faults.add(ZvtFault.NO_REVERSAL)
    parcel = _parcel(live, "CARD-JAM2", 1999)
    live.sim.jam(parcel.compartment_id)
    context, kiosk = _keyboard_kiosk(browser, live)
    try:
        _pay_by_keyboard(kiosk, parcel.pin)
        expect(kiosk.locator("#result .message.bad").first).to_have_text(
            f"Compartment {parcel.compartment_id} did not open."
        )
        expect(kiosk.locator("[data-card-back]")).to_contain_text("Staff have been told")
        _settled(live)
        [payment] = sim.journal
        assert payment.reversed_by is None  # the terminal refused it: the money is held
        assert reversal_frames(sim, payment.receipt)  # but it was asked, with the receipt

        def refund_alert() -> list[dict[str, object]]:
            with live.client("staff") as staff:
                alerts = staff.get("/api/v1/alerts").json()
            return [a for a in alerts if a["kind"] == "payment_refund"]

        wait_until(refund_alert)
        [alert] = refund_alert()
        detail = str(alert["detail"])
        assert f"receipt {payment.receipt:04d}" in detail
        assert "EUR 19.99" in detail
        assert str(parcel.id) in detail or "CARD-JAM2" in detail
    finally:
        context.close()


def test_staff_reverse_a_card_payment_and_run_the_terminal_end_of_day(
    card_station: LiveStation, browser: Browser
) -> None:
    live = card_station
    sim = terminal(live)
    first = _parcel(live, "CARD-R1", 1100)
    second = _parcel(live, "CARD-R2", 2200)
    for parcel in (first, second):  # paid at the terminal (the real client, over TCP)
        state = live.ctx.money.pay_by_card(parcel.id, actor="kiosk:test", on_text=lambda _t: None)
        assert state.value == "approved"
    assert sim.taken_cents() == 3300
    screens = Screens(browser, live)
    try:
        page = screens.signed_in("/staff", "admin")
        page.goto(f"/staff/payments?parcel={first.id}")
        row = page.locator("[data-payments] tr[data-payment]")
        expect(row.locator("[data-state]")).to_have_attribute("data-state", "approved")
        payment_id = row.get_attribute("data-payment")
        page.fill(f"#refund-reason-{payment_id}", "the order was wrong")
        page.click(f"[data-refund='{payment_id}']")
        expect(page.locator("[data-money-said]")).to_contain_text("reversed")
        _settled(live)
        [one, two] = sim.journal
        assert one.reversed_by is not None
        assert reversal_frames(sim, one.receipt)
        assert two.reversed_by is None
        assert sim.taken_cents() == 2200
        page.click("#end-of-day")  # 06 50 at the terminal
        said = page.locator("[data-money-said]")
        expect(said).to_contain_text("End-of-day:")
        expect(said).to_contain_text("EUR 22.00")
        _settled(live)
        assert all(p.settled for p in sim.journal)
        assert any(f.startswith("06 50") for f in sim.frames_received())
        shot(page, "staff-card-end-of-day")
        no_script_errors(page)
    finally:
        screens.close()
