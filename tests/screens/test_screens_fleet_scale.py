"""The fleet screen for thousands (issue 26), in headless Chromium against a real hub
(PostgreSQL, the hub's app served over HTTP; no broker: the commands are kept, and the
station's answers are given to ingest as they would come). The stations list has the
fleet's summary, pages, a filter "needs attention" and a map with a dot per station,
coloured by state; its live update is one request that is 304 when nothing changed. On a
phone (390 px) the header folds, the tables are lists, the compartment's panel opens over
the page; after a command the panel waits for the station's answer and shows it, and a
second press sends no second command."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from fleet.db import HubDatabase
from fleet.ingest import Ingest
from fleet.tables import CommandRow, CompartmentView, StationState
from locker.layout import demo_layout
from locker.uplink.layout import report
from locker.uplink.messages import CommandResult, Event, topic
from tests.fleet.engines import PgDatabase, pg_database, pg_server  # noqa: F401 (fixtures)
from tests.fleet.hub.live_hub import PASSWORD, LiveHub, live_hub
from tests.screens.conftest import VIEWPORT, WAIT_MS, no_script_errors, shot

MORE = 60  # stations besides a and b: two pages of the list
PHONE = {"width": 390, "height": 844}


def _fleet(db: HubDatabase) -> None:
    """60 stations more, straight into the tables (the registry's password hashing is not
    what is tested): every fifth offline, every seventh full, one with a fault; all but b
    with coordinates around Berlin; a with the demo front, online."""
    now = datetime.now(UTC)
    with db.engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO stations (name, created_at, command_key, broker_password_hash) "
                "SELECT 's' || lpad(n::text, 3, '0'), :now, repeat('0', 64), 'x' "
                "FROM generate_series(1, :more) n"
            ),
            {"now": now, "more": MORE},
        )
        c.execute(
            sa.text(
                "INSERT INTO station_state (station, online, last_seen, offline_since, free,"
                " accessible_free, cold_free, bus, boot, contiguous_seq, station_last_seq) "
                "SELECT 's' || lpad(n::text, 3, '0'), n % 5 <> 0, :now,"
                " CASE WHEN n % 5 = 0 THEN :now END,"
                " CASE WHEN n % 7 = 0 THEN '{\"M\": 0}'::jsonb"
                " ELSE '{\"M\": 2, \"S\": 1}'::jsonb END,"
                " '{}', '{}', '{}', '', 0, 0 FROM generate_series(1, :more) n"
            ),
            {"now": now, "more": MORE},
        )
        c.execute(
            sa.text(
                "INSERT INTO station_places (station, address, opening_hours, postcode,"
                " latitude, longitude) SELECT name, '', '', '', 52.4 + random() * 0.3,"
                " 13.2 + random() * 0.4 FROM stations WHERE name <> 'b'"
            )
        )
        c.execute(
            sa.text(
                "INSERT INTO compartments (station, compartment_id, size, state)"
                " VALUES ('s003', 1, 'M', 'fault')"
            )
        )
    layout = demo_layout()
    with db.transaction() as session:
        a = session.get_one(StationState, "a")
        a.online, a.last_seen, a.layout = True, now, report(layout)
        a.free = {"S": 4, "M": 4, "L": 4}
        for spec in layout.compartments:
            session.add(
                CompartmentView(
                    station="a", compartment_id=int(spec.id), size=spec.size.value, state="free"
                )
            )


@pytest.fixture
def hub(pg_database: PgDatabase) -> Iterator[LiveHub]:  # noqa: F811
    db = HubDatabase(pg_database.url)
    db.upgrade()
    try:
        with live_hub(db) as made:
            _fleet(db)
            yield made
    finally:
        db.close()


def signed_in(browser: Browser, hub: LiveHub, viewport: dict[str, int]) -> Page:
    context = browser.new_context(
        base_url=hub.base_url,
        viewport=viewport,  # type: ignore[arg-type]
        locale="en-GB",
        has_touch=viewport == PHONE,
        is_mobile=viewport == PHONE,
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    page.goto("/fleet/")
    page.fill("#name", "olga")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Every station")
    return page


def fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def out_of_service_commands(db: HubDatabase) -> list[CommandRow]:
    with db.transaction() as session:
        return list(
            session.exec(select(CommandRow).where(CommandRow.type == "out_of_service")).all()
        )


@pytest.mark.usefixtures("quick_password_hashes")
def test_the_list_for_many_stations_and_a_station_on_a_phone(
    browser: Browser, hub: LiveHub
) -> None:
    page = signed_in(browser, hub, VIEWPORT)
    # the summary, across the fleet: 62 stations, a and 48 of the 60 online
    expect(page.locator("#sum-stations .n")).to_have_text(str(MORE + 2))
    expect(page.locator("#sum-online")).to_have_text("49")
    expect(page.locator("#sum-offline")).to_have_text("13")
    offline, full = MORE // 5, len([n for n in range(1, MORE + 1) if n % 7 == 0 and n % 5])
    expect(page.locator("#sum-attention")).to_have_text(str(1 + offline + full + 1))  # b, s003
    expect(page.locator("#sum-free")).to_contain_text("M ")
    # pages of 50
    expect(page.locator("#rows tr")).to_have_count(50)
    expect(page.locator("#page-of")).to_have_text("page 1 of 2 (62 stations)")
    page.click("#page-next")
    expect(page.locator("#page-of")).to_have_text("page 2 of 2 (62 stations)")
    expect(page.locator("#rows tr")).to_have_count(12)
    # needs attention: offline, full or at fault; a search by name narrows it
    page.select_option("#show", "attention")
    expect(page.locator("#page-of")).to_contain_text(f"({2 + offline + full} stations)")
    expect(page.locator("#station-s005")).to_be_visible()  # offline
    expect(page.locator("#station-s007")).to_contain_text("full")
    expect(page.locator("#station-s003")).to_contain_text("1 fault(s)")
    expect(page.locator("#station-a")).to_have_count(0)
    page.fill("#q", "s00")
    expect(page.locator("#rows tr")).to_have_count(3)  # s003, s005, s007
    # the map: a dot per station with coordinates (b has none), coloured by state
    expect(page.locator("#fleet-map circle.dot")).to_have_count(MORE + 1)
    expect(page.locator("#fleet-map a[data-station=s005] circle")).to_have_class(
        re.compile("dot-offline")
    )
    expect(page.locator("#fleet-map a[data-station=s007] circle")).to_have_class(
        re.compile("dot-attention")
    )
    expect(page.locator("#fleet-map a[data-station=a] circle")).to_have_class(
        re.compile("dot-online")
    )
    # the live update: one request with the version shown; 304 while nothing changed
    etag = page.locator(".list-live").get_attribute("data-etag")
    asked = "/fleet/rows?q=s00&show=attention&sort=name&page=1"
    same = page.evaluate(
        "([u, e]) => fetch(u, {headers: {'If-None-Match': e}}).then(r => r.status)", [asked, etag]
    )
    assert same == 304
    with hub.db.engine.begin() as c:
        c.execute(sa.text("UPDATE station_state SET online = false WHERE station = 'a'"))
    expect(page.locator("#sum-offline")).to_have_text("14")  # by itself, within a poll
    expect(page.locator("#rows tr")).to_have_count(3)  # the filter and search still apply
    shot(page, "fleet-stations-many")
    with hub.db.engine.begin() as c:
        c.execute(sa.text("UPDATE station_state SET online = true WHERE station = 'a'"))

    # on a phone: the header folds, the list's rows are cards, nothing runs off the side
    phone = signed_in(browser, hub, PHONE)
    assert fits(phone)
    expect(phone.locator("table.fleet thead")).to_be_hidden()
    assert phone.locator("#rows tr").first.evaluate("e => getComputedStyle(e).display") == ("block")
    phone.goto("/fleet/stations/a")
    expect(phone.locator(".front-hub .door")).to_have_count(len(demo_layout().compartments))
    assert fits(phone)
    # the panel opens over the page where the door was tapped, not at the page's end
    phone.locator("#hub-door-11").scroll_into_view_if_needed()
    phone.tap("#hub-door-11")
    expect(phone.locator("#detail h2")).to_have_text("Compartment 11")
    expect(phone.locator("#detail")).to_have_class(re.compile(r"\bopen\b"))
    box = phone.locator("#detail").bounding_box()
    assert box is not None
    assert box["y"] >= 0
    assert box["y"] + box["height"] <= PHONE["height"] + 1
    # a command: the panel waits for the answer (its button too); pressing again sends none
    phone.fill("#reason", "door sticks")
    phone.click("#take-out")
    expect(phone.locator("#pending")).to_be_visible()
    expect(phone.locator("#take-out")).to_be_disabled()
    phone.fill("#reason", "door sticks")
    phone.evaluate("document.querySelector('#detail form').requestSubmit()")  # pressed again
    expect(phone.locator("#said")).to_contain_text("waiting for the station")
    [given] = out_of_service_commands(hub.db)
    # the station answers; the panel shows its new state by itself
    now = datetime.now(UTC)
    ingest = Ingest(hub.db)
    ingest.handle(
        topic("a", "evt"),
        Event(
            id="e" * 32,
            station="a",
            seq=1,
            at=now,
            type="compartment",
            data={"compartment_id": 11, "condition": "out_of_service"},
        ).payload(),
        now,
    )
    ingest.handle(
        topic("a", "res"),
        CommandResult(command_id=given.id, station="a", ok=True, at=now).payload(),
        now + timedelta(milliseconds=1),
    )
    expect(phone.locator("#compartment-state")).to_have_text("out of service")
    expect(phone.locator("#pending")).to_have_count(0)
    expect(phone.locator("#put-back")).to_be_enabled()
    assert len(out_of_service_commands(hub.db)) == 1
    shot(phone, "fleet-station-phone")
    assert fits(phone)  # the commands' list with the new one too
    phone.click("[data-close-panel]")
    expect(phone.locator("#detail.open")).to_have_count(0)
    for each in (page, phone):
        no_script_errors(each)
