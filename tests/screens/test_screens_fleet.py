"""The operators' screen of the fleet hub (fleet/screens) in headless Chromium, against a
real hub: PostgreSQL, Mosquitto with the hub's generated configuration, a hub worker and
the hub's HTTP app, a live station ``a`` joined to it and a station ``b`` registered that
never came. What happens at the station shows on the fleet page by itself; the actions
travel as signed commands and show the station's answer; a central staff grant lets an
operator sign in at the station's maintenance screen with a one-time pass, until revoked.
Screenshots go to docs/screenshots/fleet-*.png."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pydantic import SecretStr
from sqlmodel import col, select

from api.hub_backup import HubBackupSender
from api.threaded import served
from fleet import accounts, broker, dynsec, registry
from fleet.app import create_app
from fleet.db import HubDatabase
from fleet.engines import Mosquitto, engine_folder, free_port
from fleet.settings import HubSettings
from fleet.tables import HubAudit
from fleet.worker import Worker
from locker.store import offsite
from locker.store.backups import BackupSchedule
from locker.store.tables import AuditEntry, Compartment, Parcel
from locker.types import Condition
from tests.api.http_helpers import store
from tests.api.live import PASSWORD, LiveStation, live_station
from tests.fleet.engines import PgDatabase, pg_database, pg_server  # noqa: F401 (fixtures)
from tests.screens.conftest import VIEWPORT, WAIT_MS, no_script_errors, shot


@dataclass
class RealFleet:
    hub_url: str
    db: HubDatabase
    live: LiveStation


@contextmanager
def real_fleet(tmp_path: Path, pg: PgDatabase) -> Iterator[RealFleet]:
    now = datetime.now(UTC)
    db = HubDatabase(pg.url)
    db.upgrade()
    creds = registry.add_station(db, "a", now)
    registry.add_station(db, "b", now)  # registered, never connected
    accounts.add_operator(db, "ada", PASSWORD, "admin", now)
    accounts.add_operator(db, "ida", PASSWORD, "operator", now)
    folder = engine_folder("lps-mqtt-")
    port = free_port()
    hub_password = broker.new_password()
    users = [broker.BrokerUser(name, hashed) for name, hashed in registry.stations(db)]
    dynsec.apply_broker_config(folder, users, hub_password, port=port)
    mosquitto = Mosquitto(folder, port)
    mosquitto.start()
    settings = HubSettings(
        database_url=SecretStr(pg.url),
        mqtt_port=port,
        mqtt_user=broker.HUB_USER,
        mqtt_password=SecretStr(hub_password),
        mqtt_client_prefix=f"hub-{uuid.uuid4().hex[:6]}",
        data_dir=tmp_path / "hub",
        _env_file=None,  # type: ignore[call-arg]
    )
    worker = Worker(db, settings)
    worker.start()
    (tmp_path / "station").mkdir()
    try:
        with (
            served(create_app(db, settings, worker.publish)) as hub_url,
            live_station(
                tmp_path / "station",
                background=False,
                hub_station="a",
                mqtt_host="127.0.0.1",
                mqtt_port=port,
                mqtt_user=creds.broker_user,
                mqtt_password=creds.broker_password,
                hub_command_key=creds.command_key,
                mqtt_keepalive_s=5,
            ) as live,
        ):
            live.clock.now = datetime.now(UTC)  # the hub's passes and the station's clock agree
            yield RealFleet(hub_url, db, live)
    finally:
        worker.stop()
        mosquitto.remove()
        db.close()


def context(browser: Browser, base_url: str) -> BrowserContext:
    made = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="en-GB")
    made.set_default_timeout(WAIT_MS)
    return made


def hub_page(browser: Browser, fleet: RealFleet, name: str) -> Page:
    page = context(browser, fleet.hub_url).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.js_errors = errors  # type: ignore[attr-defined]
    page.goto("/fleet/")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Every station")
    return page


def compartment_condition(live: LiveStation, cid: int) -> Condition:
    with live.runtime.station.db.read() as session:
        row = session.get(Compartment, cid)
        assert row is not None
        return row.condition


def station_audit(live: LiveStation, action: str) -> list[str]:
    with live.runtime.station.db.read() as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == action)).all()
        return [r.actor for r in rows]


@pytest.mark.usefixtures("quick_password_hashes")
def _processed(page: Page, selector: str) -> None:
    """Wait until htmx has taken over the form just swapped in (under load a key pressed at
    once can beat it, and the browser then sends the form itself)."""
    page.wait_for_function(
        "s => { const f = document.querySelector(s); return !!f && !!f['htmx-internal-data'] }",
        arg=selector,
    )


def test_operators_watch_the_fleet_act_by_command_and_sign_in_at_a_station(
    browser: Browser,
    tmp_path: Path,
    pg_database: PgDatabase,  # noqa: F811 (the fixture imported above)
) -> None:
    with real_fleet(tmp_path, pg_database) as fleet:
        live = fleet.live
        # signing in: a wrong password is said plainly
        page = context(browser, fleet.hub_url).new_page()
        page.goto("/fleet/")
        page.fill("#name", "ada")
        page.fill("#password", "not the password")
        page.click("button[type=submit]")
        expect(page.get_by_role("alert")).to_have_text("The name or the password is wrong.")
        page = hub_page(browser, fleet, "ada")

        # every station on one page, redrawn live: a parcel stored at a shows by itself
        expect(page.locator("#station-a .badge.on")).to_be_visible()
        expect(page.locator("#station-b")).to_contain_text("never seen")
        with live.client("courier") as courier:
            parcel = store(live, courier, size="M")
        expect(page.locator("#station-a .waiting")).to_have_text("1")
        expect(page.locator("#station-a .free")).to_contain_text("M 3")
        page.select_option("#show", "offline")
        expect(page.locator("#station-a")).to_have_count(0)
        expect(page.locator("#station-b")).to_be_visible()
        page.select_option("#show", "all")
        page.select_option("#sort", "waiting")
        expect(page.locator("#rows tr").first).to_have_id("station-a")
        shot(page, "fleet-stations")

        # a station's page: its front from the layout it reported, each compartment's state
        page.click("#station-a a")
        expect(page.locator(".front-hub .door")).to_have_count(12)
        expect(page.locator(f"#hub-door-{parcel.compartment_id}")).to_have_class(
            re.compile("state-occupied")
        )
        expect(page.locator("#no-open")).to_contain_text("no message from outside ever opens")
        expect(page.get_by_role("button", name=re.compile("open", re.IGNORECASE))).to_have_count(0)

        # take compartment 12 out of service by keyboard; the station does it and says so
        page.focus("#hub-door-12")
        page.keyboard.press("Enter")
        expect(page.locator("#detail h2")).to_have_text("Compartment 12")
        page.fill("#reason", "door sticks")
        _processed(page, "#detail form")
        page.keyboard.press("Enter")
        expect(page.locator("#said")).to_contain_text("Sent")
        first = page.locator("#commands tr.command").first
        expect(first).to_have_attribute("data-type", "out_of_service")
        expect(first.locator(".cstate")).to_have_text("done by the station")
        expect(page.locator("#hub-door-12")).to_have_class(re.compile("state-out_of_service"))
        assert compartment_condition(live, 12) is Condition.OUT_OF_SERVICE
        page.click("#hub-door-12")
        _processed(page, "#detail form")
        page.click("#put-back")
        expect(page.locator("#hub-door-12")).to_have_class(re.compile("state-free"))

        # extend the parcel's deadline, revoke a courier: each answered by the station
        with live.runtime.station.db.read() as session:
            before = session.get_one(Parcel, parcel.id).deadline
        page.click(f"#extend-{parcel.id}")
        first = page.locator("#commands tr.command").first
        expect(first).to_have_attribute("data-type", "extend")
        expect(first.locator(".cstate")).to_have_text("done by the station")
        with live.runtime.station.db.read() as session:
            after = session.get_one(Parcel, parcel.id).deadline
        assert before is not None
        assert after is not None
        assert after > before
        page.fill("#courier", "courier")
        page.click("#revoke-courier button[type=submit]")
        first = page.locator("#commands tr.command").first
        expect(first).to_have_attribute("data-type", "revoke_courier")
        expect(first.locator(".cstate")).to_have_text("done by the station")
        assert station_audit(live, "courier.revoked") == ["hub:ada"]
        # a courier the station does not know: its refusal, the command and the events
        # read as sentences (not codes, not dicts), in English and German; times say UTC
        page.fill("#courier", "nobody")
        page.click("#revoke-courier button[type=submit]")
        first = page.locator("#commands tr.command").first
        expect(first.locator("[data-problem=courier_not_found]")).to_have_text(
            "No courier of that name at this station."
        )
        expect(first.locator("[data-command]")).to_have_text("Revoke courier nobody's access")
        expect(first).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"))
        expect(page.locator("#events")).to_contain_text("Compartment 12: in service")
        page.goto(f"{page.url.split('?')[0]}?lang=de")
        first = page.locator("#commands tr.command").first
        expect(first.locator("[data-problem=courier_not_found]")).to_have_text(
            "An dieser Station gibt es keinen Kurier dieses Namens."
        )
        expect(first.locator("[data-command]")).to_have_text("Zugang von Kurier nobody widerrufen")
        expect(page.locator("#events")).to_contain_text("Fach 12: in Betrieb")
        page.goto(f"{page.url.split('?')[0]}?lang=en")
        shot(page, "fleet-station")

        # the station's sealed backup reaches the hub; operators see it, an admin takes it
        settings = live.ctx.settings.model_copy(update={"hub_url": fleet.hub_url})
        schedule = BackupSchedule(
            settings.database_path, settings.key_path, settings.backups(), live.clock
        )
        schedule.senders.append(HubBackupSender(settings))
        made = schedule.run()
        page.click("#station-backups")
        expect(page.locator("h1")).to_have_text("The stations' backups")
        sent = page.locator("#backups-a tr.backup")
        expect(sent).to_have_count(1)
        expect(sent.locator(".file")).to_have_text(made.path.name + ".lpsbak")
        expect(sent.locator(".sealed")).to_have_text("sealed: the hub cannot read it")
        expect(sent.locator(".bsize")).to_contain_text("KiB")
        expect(page.locator("#backups-b")).to_contain_text("No backup received yet.")
        with page.expect_download() as taken:
            sent.locator("a.download").click()
        copy = tmp_path / taken.value.suggested_filename
        taken.value.save_as(copy)
        opened = offsite.open_copy(copy, settings.backup_key_path.read_bytes(), tmp_path)
        assert opened.database.read_bytes() == made.path.read_bytes()
        shot(page, "fleet-backups")

        # central staff: ada grants ida station a; the station acknowledges it
        page.click("text=Central staff")
        page.select_option("#operator", "ida")
        page.check("#grant-station-a")
        page.click("#grant-submit")
        expect(page.locator("#grant-table tbody tr").first.locator(".gstate")).to_have_text(
            "acknowledged"
        )
        shot(page, "fleet-grants")

        # ida gets a one-time pass on the hub and signs in at the station's maintenance screen
        ida = hub_page(browser, fleet, "ida")
        expect(ida.locator("text=Central staff")).to_have_count(0)  # not an admin
        ida.goto("/fleet/backups")
        expect(ida.locator("#backups-a tr.backup")).to_have_count(1)
        expect(ida.locator("#backups-a a.download")).to_have_count(0)  # admins download
        ida.goto("/fleet/stations/a")
        ida.click("#pass-form button[type=submit]")
        expect(ida.locator("#pass-name")).to_have_text("hub:ida")
        pass_text = ida.locator("#pass-text").inner_text()
        shot(ida, "fleet-pass")
        at_station = context(browser, live.base_url).new_page()
        at_station.goto("/staff")
        at_station.fill("#name", "hub:ida")
        at_station.fill("#password", pass_text)
        at_station.click("button[type=submit]")
        expect(at_station.locator(".brand")).to_contain_text("hub:ida")
        shot(at_station, "fleet-central-staff-at-station")
        # the same pass a second time is refused
        again = context(browser, live.base_url).new_page()
        again.goto("/staff")
        again.fill("#name", "hub:ida")
        again.fill("#password", pass_text)
        again.click("button[type=submit]")
        expect(again.get_by_role("alert")).to_have_text(  # said, not its code pass_replayed
            "This pass was used already: ask the hub for a new one."
        )

        # ada revokes it: the station ends ida's session there
        page.click("#grant-table tbody tr >> nth=0 >> button")
        expect(page.locator("#grant-table tbody tr").first.locator(".gstate")).to_contain_text(
            "(acknowledged)"
        )
        at_station.reload()
        expect(at_station.locator("#password")).to_be_visible()  # the sign-in page again
        assert station_audit(live, "central.signed_in") == ["hub:ida"]
        assert station_audit(live, "central.revoked") == ["hub"]

        # the hub's audit log names the operators; German is there too
        with fleet.db.transaction() as session:
            done = {
                (a.actor, a.action)
                for a in session.exec(select(HubAudit).order_by(col(HubAudit.id)))
            }
        assert {
            ("ada", "command.out_of_service"),
            ("ada", "command.back_in_service"),
            ("ada", "command.extend"),
            ("ada", "command.revoke_courier"),
            ("ada", "grant.given"),
            ("ida", "pass.issued"),
            ("ada", "grant.revoked"),
            ("ada", "backup.downloaded"),
        } <= done
        page.goto("/fleet/audit")
        expect(page.locator("#audit [data-action='pass.issued']").first).to_contain_text(
            "One-time pass issued, valid until"
        )
        page.goto("/fleet/audit?lang=de")
        expect(page.locator("#audit [data-action='command.out_of_service']").first).to_have_text(
            "Befehl: Fach 12 außer Betrieb nehmen: door sticks"
        )
        page.goto("/fleet/?lang=de")
        expect(page.locator("h1")).to_have_text("Alle Stationen")
        expect(page.locator("#station-a")).to_contain_text("online")
        for each in (page, ida):
            no_script_errors(each)
