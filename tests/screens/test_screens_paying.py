"""Paying at the kiosk in a real browser (Chromium) against the fake provider: the code of
an unpaid parcel shows the amount and a QR code of the pay link (read back from its
pixels); the customer's phone pays on the provider's page; "I have paid" opens the door.
English by the keyboard alone, German by touch alone; and the maintenance screen's
payments page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from sim.payment_provider import FakeStripe
from tests.api.http_helpers import API, ok, store
from tests.api.live import LiveStation, live_station
from tests.screens.conftest import VIEWPORT, WAIT_MS, Screens, no_script_errors, shot
from tests.screens.test_screens_kiosk import type_code

KEY, SECRET = "sk_test_screens", "whsec_screens"


@pytest.fixture
def paying(tmp_path: Path) -> Iterator[tuple[LiveStation, FakeStripe]]:
    fake = FakeStripe(api_key=KEY, webhook_secret=SECRET).start()
    try:
        with live_station(
            tmp_path, stripe_api_key=KEY, stripe_webhook_secret=SECRET, stripe_api_base=fake.url
        ) as live:
            live.ctx.settings.public_url = live.base_url
            live.ctx.money.public_url = live.base_url
            fake.webhook_url = f"{live.base_url}{API}/payments/webhook"
            yield live, fake
    finally:
        fake.stop()


def _qr_text(page: Page) -> str:
    picture = Image.open(io.BytesIO(page.locator("img.pay-qr").screenshot()))
    [found] = zxingcpp.read_barcodes(picture)
    return str(found.text)


def _pay_on_the_phone(screens: Screens, url: str, button: str, paid: str) -> None:
    phone = screens.open(url.removeprefix(screens.live.base_url))
    phone.click("#pay-go")  # on to the provider's page
    phone.click("#pay")
    expect(phone.locator("[data-pay-said]")).to_contain_text(paid)
    del button


def _tab_to(page: Page, element_id: str) -> None:
    for _ in range(20):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} is not reached by Tab")


def test_pay_by_link_at_the_kiosk_by_keyboard(
    paying: tuple[LiveStation, FakeStripe], browser: Browser
) -> None:
    live, fake = paying
    with live.client("courier") as courier:
        parcel = store(live, courier, tracking="ORDER-K", amount_due=2040)
    screens = Screens(browser, live)
    try:
        kiosk = screens.open("/kiosk")
        type_code(kiosk, parcel.pin)
        pay = kiosk.locator("#result [data-pay]")
        expect(pay).to_contain_text("This parcel is not paid yet: EUR 20.40")
        url = kiosk.locator("img.pay-qr").get_attribute("data-pay-url")
        assert url is not None
        assert url.startswith(f"{live.base_url}/pay/")
        assert _qr_text(kiosk) == url  # the QR code is the message's link
        shot(kiosk, "kiosk-pay")
        assert live.sim.pulses(parcel.compartment_id) == 1  # nothing opened
        _tab_to(kiosk, "pay-paid")
        kiosk.keyboard.press("Enter")  # not paid yet: it says so, nothing opens
        expect(kiosk.locator("[data-pay-again]")).to_contain_text("has not arrived yet")
        assert live.sim.pulses(parcel.compartment_id) == 1
        _pay_on_the_phone(screens, url, "#pay", "Paid, thank you")
        _tab_to(kiosk, "pay-paid")
        kiosk.keyboard.press("Enter")
        expect(kiosk.locator("#result .message.good")).to_contain_text(
            f"Compartment {parcel.compartment_id} is open"
        )
        assert live.sim.pulses(parcel.compartment_id) == 2
        assert fake.ledger.charged_cents() == 2040
        no_script_errors(kiosk)
    finally:
        screens.close()


def test_pay_by_link_at_the_kiosk_in_german_by_touch(
    paying: tuple[LiveStation, FakeStripe], browser: Browser
) -> None:
    live, fake = paying
    with live.client("courier") as courier:
        parcel = store(live, courier, tracking="ORDER-T", amount_due=999)
    screens = Screens(browser, live)
    context = browser.new_context(
        base_url=live.base_url, viewport=VIEWPORT, locale="de-DE", has_touch=True
    )
    context.set_default_timeout(WAIT_MS)
    try:
        kiosk = context.new_page()
        kiosk.goto("/kiosk?lang=de")
        for digit in parcel.pin:  # the on-screen keypad, by touch
            kiosk.tap(f"button[data-key='{digit}']")
        kiosk.tap("#collect button[type=submit]")
        pay = kiosk.locator("#result [data-pay]")
        expect(pay).to_contain_text("Dieses Paket ist noch nicht bezahlt: 9,99 EUR")
        url = kiosk.locator("img.pay-qr").get_attribute("data-pay-url")
        assert url is not None
        phone = screens.open(url.removeprefix(live.base_url), lang="de")
        expect(phone.locator("#pay-go")).to_contain_text("Jetzt 9,99 EUR zahlen")
        phone.click("#pay-go")
        phone.click("#pay")
        expect(phone.locator("[data-pay-said]")).to_contain_text("Bezahlt, danke")
        kiosk.tap("#pay-paid")
        expect(kiosk.locator("#result .message.good")).to_contain_text(
            f"Fach {parcel.compartment_id}"
        )
        shot(kiosk, "kiosk-paid-de")
        assert fake.ledger.charged_cents() == 999
    finally:
        context.close()
        screens.close()


def test_staff_take_cash_and_see_the_day(
    paying: tuple[LiveStation, FakeStripe], browser: Browser
) -> None:
    live, _fake = paying
    with live.client("courier") as courier:
        parcel = store(live, courier, tracking="ORDER-S", amount_due=1500)
    screens = Screens(browser, live)
    try:
        page = screens.signed_in("/staff", "staff")
        page.click("nav >> text=Payments")
        row = page.locator(f"tr[data-parcel='{parcel.id}']")
        expect(row.locator("[data-amount]")).to_have_text("EUR 15.00")
        row.locator(f"#amount-{parcel.id}").fill("12,50")
        row.locator(f"#amount-reason-{parcel.id}").fill("voucher")
        row.locator(f"[data-set-amount='{parcel.id}']").click()
        expect(page.locator("[data-money-said]")).to_contain_text("EUR 12.50")
        row = page.locator(f"tr[data-parcel='{parcel.id}']")
        row.locator(f"#reason-{parcel.id}").fill("paid at the till")
        row.locator(f"[data-cash='{parcel.id}']").click()
        expect(page.locator("[data-money-said]")).to_contain_text("Paid in cash")
        expect(page.locator("[data-unpaid]")).to_have_count(0)
        expect(page.locator("[data-totals] tr[data-method=cash]")).to_contain_text("EUR 12.50")
        shot(page, "staff-payments")
        with live.client() as customer:
            ok(customer.post(f"{API}/collect", json={"code": parcel.pin}))
        no_script_errors(page)
    finally:
        screens.close()
