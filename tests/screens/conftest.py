"""Browser tests: Debian's chromium, headless, driven by Playwright, against a station
served over real HTTP (tests/api/live.py). Screenshots go to docs/screenshots/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.api.conftest import quick_password_hashes  # noqa: F401  (a fixture)
from tests.api.live import PASSWORD, LiveStation

CHROMIUM = os.environ.get("LOCKER_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# As root in a container: no sandbox; and no calls home (this machine has no internet).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 860}
WAIT_MS = 10_000  # only stops a test that would hang; never a timing assertion
expect.set_options(timeout=WAIT_MS)


# One driver and browser per test: Playwright's driver runs threads of its own, and a
# test must end with no threads left (tests/conftest.py).
@pytest.fixture
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (as root)")
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


class Screens:
    """Pages of one station, each in its own browser context (its own cookies)."""

    def __init__(self, browser: Browser, live: LiveStation) -> None:
        self.browser = browser
        self.live = live
        self.contexts: list[BrowserContext] = []

    def open(self, path: str, *, lang: str | None = None) -> Page:
        context = self.browser.new_context(
            base_url=self.live.base_url, viewport=VIEWPORT, locale="en-GB"
        )
        context.set_default_timeout(WAIT_MS)
        self.contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(  # a script or style the Content-Security-Policy refused
            "console",
            lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        page.goto(path + (f"?lang={lang}" if lang else ""))
        page.js_errors = errors  # type: ignore[attr-defined]
        return page

    def signed_in(self, screen: str, name: str) -> Page:
        page = self.open(screen)
        page.fill("#name", name)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"**{screen}")
        return page

    def sim(self) -> Page:
        """The simulator's screen: for staff only, so signed in on the maintenance one first."""
        page = self.signed_in("/staff", "staff")
        page.goto("/sim")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def shot(page: Page, name: str) -> None:
    """Save what the page shows now as docs/screenshots/<name>.png (shown in the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def no_script_errors(page: Page) -> None:
    errors: list[str] = page.js_errors  # type: ignore[attr-defined]
    assert not errors, errors
