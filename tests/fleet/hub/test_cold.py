"""Cooled compartments on the hub over a real PostgreSQL: a chilled or frozen announcement
goes only to a station with a free compartment of that kind (none while its group is out
of band, as the station reports), never an ambient one to a freezer; a cold group's alerts
are kept per group; the fleet screen's cold groups and their chart come from the
station's cold events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from fleet import accounts
from fleet.db import HubDatabase
from fleet.screens.cold import cold_groups
from fleet.tables import AlertView, StationState
from tests.fleet.hub.support import T0, event, form_token
from tests.fleet.hub.test_carriers import CarrierHub
from tests.fleet.hub.test_carriers import receiver as receiver  # noqa: F401  (a fixture)
from tests.fleet.receiver import Receiver

PASSWORD = "correct horse battery"  # noqa: S105
LABEL = "{group}: temperature over the last 24 hours, band {band}"


@pytest.fixture
def hub(hub_db: HubDatabase, receiver: Receiver) -> Iterator[CarrierHub]:  # noqa: F811
    made = CarrierHub(hub_db, receiver)
    yield made
    made.http.close()


def _emit(hub: CarrierHub, station: str, kind: str, data: dict[str, Any]) -> None:
    hub.seq[station] = hub.seq.get(station, 0) + 1
    hub.handle(station, "evt", event(station, hub.seq[station], kind, **data).payload())


def _cold_station(
    hub: CarrierHub, name: str, chilled: dict[str, int], frozen: dict[str, int]
) -> None:
    free = {size: chilled.get(size, 0) + frozen.get(size, 0) + 1 for size in ("S", "M")}
    hub.online(name, free, {})
    hub.emit(
        name,
        "capacity",
        free=free,
        accessible_free={},
        cold_free={"chilled": chilled, "frozen": frozen},
    )


def test_a_cold_parcel_goes_only_where_its_kind_is_free(hub: CarrierHub) -> None:
    _cold_station(hub, "a", {"M": 1}, {})  # Berlin: a fridge, no freezer
    _cold_station(hub, "b", {}, {"M": 1})  # Hamburg: a freezer
    hub.online("c", {"M": 5}, {})  # Munich: no cooled compartment at all
    munich = {"recipient_latitude": 48.14, "recipient_longitude": 11.58}
    chilled = hub.announce(tracking_number="C1", cold="chilled", **munich)
    assert chilled.status_code == 202, chilled.text
    assert chilled.json()["station"]["name"] == "a"  # not the nearer ambient Munich
    assert hub.sent[-1].args["cold"] == "chilled"
    frozen = hub.announce(tracking_number="F1", cold="frozen", **munich)
    assert frozen.json()["station"]["name"] == "b"
    again = hub.announce(tracking_number="C2", cold="chilled", **munich)  # a's one is taken
    assert again.status_code == 409
    assert again.json()["code"] == "no_station_fits"
    assert "free chilled M compartment" in again.json()["detail"]
    named = hub.announce(tracking_number="F2", cold="frozen", station="a")
    assert named.json()["code"] == "station_full"
    assert "no free frozen M compartment" in named.json()["detail"]


def test_an_ambient_parcel_never_counts_a_freezer(hub: CarrierHub) -> None:
    hub.online("a", {"M": 1}, {})
    hub.emit("a", "capacity", free={"M": 1}, accessible_free={}, cold_free={"frozen": {"M": 1}})
    refused = hub.announce(tracking_number="A1", station="a")
    assert refused.json()["code"] == "station_full"
    rooms = hub.http.get("/api/v1/carrier/stations", headers=hub.auth).json()
    a = next(s for s in rooms if s["name"] == "a")
    assert a["free"]["M"] == 0
    assert a["cold_free"] == {"frozen": {"S": 0, "M": 1, "L": 0, "XL": 0}}


def test_a_group_out_of_band_takes_nothing_and_its_alerts_are_its_own(hub: CarrierHub) -> None:
    _cold_station(hub, "a", {"M": 1}, {"M": 1})
    for group in ("fridge", "freezer"):
        alert = {"kind": "cold_out_of_band", "compartment_id": None, "cold_group": group}
        _emit(hub, "a", "alert.raised", {**alert, "detail": f"{group} too warm"})
    closed = {"chilled": {}, "frozen": {}}  # both groups out of band: none free
    hub.emit("a", "capacity", free={"S": 1, "M": 2}, accessible_free={}, cold_free=closed)
    assert hub.announce(tracking_number="C1", cold="chilled").json()["code"] == "no_station_fits"
    cleared = {"kind": "cold_out_of_band", "compartment_id": None, "cold_group": "fridge"}
    _emit(hub, "a", "alert.cleared", cleared)
    with hub.db.transaction() as session:
        kinds = [a.kind for a in session.exec(select(AlertView)).all()]
        state = session.get(StationState, "a")
        assert state is not None
        assert state.cold_free == {"chilled": {}, "frozen": {}}
    assert kinds == ["cold_out_of_band:freezer"]


def test_the_fleet_screen_draws_each_group_from_its_events(hub: CarrierHub) -> None:
    hub.online("a", {"M": 1}, {})
    for minute in range(0, 180, 5):
        reading = None if 60 <= minute < 120 else (5.0 if minute < 150 else 11.0)
        facts = {"group": "fridge", "kind": "chilled", "min_c": 2.0, "max_c": 8.0}
        facts |= {"status": "ok" if minute < 170 else "out_of_band", "celsius": reading}
        _emit(hub, "a", "cold", {**facts, "compartments": [4, 5]})
    with hub.db.transaction() as session:
        # support.event() dates event n at T0 + n minutes (one a minute, twelve silent)
        shown = cold_groups(session, "a", T0 + timedelta(hours=1), LABEL)
    assert len(shown) == 1
    fridge = shown[0]
    assert (fridge.group, fridge.kind, fridge.band) == ("fridge", "chilled", "2–8 °C")
    assert (fridge.status, fridge.celsius, fridge.compartments) == ("out_of_band", "11.0", "4, 5")
    assert 'aria-label="fridge: temperature over the last 24 hours, band 2–8 °C"' in fridge.chart
    assert "<polyline" in fridge.chart
    assert 'class="silent"' in fridge.chart
    assert "<script" not in fridge.chart


def test_the_station_page_shows_the_group_and_its_chart(hub: CarrierHub) -> None:
    hub.online("a", {"M": 1}, {})
    for minute in range(30):
        reading = 4.0 + minute / 10 if minute < 25 else None
        facts = {"group": "fridge", "kind": "chilled", "min_c": 2.0, "max_c": 8.0}
        status = "ok" if minute < 25 else "silent"
        _emit(
            hub, "a", "cold", {**facts, "status": status, "celsius": reading, "compartments": [4]}
        )
    accounts.add_operator(hub.db, "olga", PASSWORD, "operator", T0)
    hub.clock.now = T0 + timedelta(hours=1)
    with TestClient(hub.app, base_url="http://hub") as http:
        signed = http.post(
            "/fleet/sign-in",
            data={"name": "olga", "password": PASSWORD, "form_token": form_token(http)},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        page = http.get("/fleet/stations/a/live")
    assert page.status_code == 200, page.text
    assert 'data-cold-group="fridge" data-cold-status="silent"' in page.text
    assert "thermometer silent: takes no new cold parcels" in page.text
    assert "band 2–8 °C" in page.text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="cold-chart"' in page.text
    assert "<polyline" in page.text
