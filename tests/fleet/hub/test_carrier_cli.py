"""``locker hub carrier add`` and ``locker hub station place`` on a real PostgreSQL: the
printed token announces a parcel through the hub's API, and the answer names the place."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fleet import registry
from fleet.app import create_app
from fleet.cli import app
from fleet.db import HubDatabase
from fleet.ingest import Ingest
from fleet.settings import HubSettings
from locker.uplink.messages import Command
from tests.fleet.engines import PgDatabase
from tests.fleet.hub.support import T0, event, evt_topic


def test_carrier_add_prints_a_token_that_announces_a_parcel(
    pg_database: PgDatabase, hub_db: HubDatabase
) -> None:
    registry.add_station(hub_db, "shop-7", T0)
    runner = CliRunner()
    env = {"FLEET_DATABASE_URL": pg_database.url}
    placed = runner.invoke(
        app,
        [
            "station",
            "place",
            "shop-7",
            "--address",
            "Hauptstr. 7, 10115 Berlin",
            "--hours",
            "Mo-Fr 9-18",
            "--postcode",
            "10115",
            "--lat",
            "52.53",
            "--lon",
            "13.38",
        ],
        env=env,
    )
    assert placed.exit_code == 0, placed.output
    added = runner.invoke(
        app,
        [
            "carrier",
            "add",
            "Parcel Co",
            "--stations",
            "shop-7",
            "--webhook",
            "https://hooks.example.org/lps",
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    token = re.search(r"^token: (car_\S+)$", added.stdout, re.MULTILINE)
    assert token is not None, added.stdout
    assert re.search(r"^webhook signing key: [0-9a-f]{64}$", added.stdout, re.MULTILINE)

    again = runner.invoke(app, ["carrier", "add", "Parcel Co", "--stations", "shop-7"], env=env)
    assert again.exit_code == 1
    assert "carrier_exists" in again.stderr
    inside = runner.invoke(
        app,
        ["carrier", "add", "X", "--stations", "shop-7", "--webhook", "http://10.0.0.5/"],
        env=env,
    )
    assert inside.exit_code == 1
    assert "webhook_url_forbidden" in inside.stderr
    nowhere = runner.invoke(app, ["carrier", "add", "Y", "--stations", "nowhere"], env=env)
    assert nowhere.exit_code == 1
    assert "station_not_found" in nowhere.stderr

    Ingest(hub_db).handle(
        evt_topic("shop-7"),
        event("shop-7", 1, "capacity", free={"M": 1}, accessible_free={}).payload(),
        T0,
    )
    sent: list[Command] = []
    with TestClient(create_app(hub_db, HubSettings(), sent.append)) as hub:
        answer = hub.post(
            "/api/v1/carrier/announcements",
            json={
                "tracking_number": "PC-1",
                "size": "M",
                "recipient_name": "Ida Lund",
                "station": "shop-7",
            },
            headers={"Authorization": f"Bearer {token.group(1)}"},
        )
    assert answer.status_code == 202, answer.text
    assert answer.json()["station"]["address"] == "Hauptstr. 7, 10115 Berlin"
    assert answer.json()["station"]["opening_hours"] == "Mo-Fr 9-18"
    assert [c.args["carrier"] for c in sent] == ["Parcel Co"]
