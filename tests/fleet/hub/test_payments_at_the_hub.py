"""Pay at pick-up at the hub (real PostgreSQL): a station's parcels carry what is due; its
"paid" event marks the parcel paid, counts in the day's totals of the fleet screen and
becomes ``parcel.paid`` for the carrier, with the amount and the way, no card data, no
payment secret."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from fleet import carriers
from fleet.db import HubDatabase
from fleet.ingest import Ingest
from fleet.registry import StationCredentials
from fleet.screens.views import station_rows
from fleet.tables import CarrierWebhook, ParcelView
from tests.fleet.hub.support import T0, event, evt_topic, parcel


def test_a_paid_parcel_at_the_hub(hub_db: HubDatabase, station_a: StationCredentials) -> None:
    carriers.add_carrier(hub_db, "DHL", ["a"], "https://carrier.example/hooks", T0)
    ingest = Ingest(hub_db)
    stored = event("a", 1, "parcel", **parcel(7, "stored", 3, amount_due=2040))
    other = event("a", 2, "parcel", **parcel(8, "stored", 4, amount_due=990))
    for e in (stored, other):
        ingest.handle(evt_topic(), e.payload(), T0)
    with hub_db.transaction() as session:
        [row] = [r for r in station_rows(session, T0 + timedelta(minutes=5)) if r.name == "a"]
    assert (row.unpaid, row.unpaid_cents, row.paid_today_cents) == (2, 3030, 0)
    money = {"amount_cents": 2040, "currency": "EUR", "method": "link"}
    paid_at = (T0 + timedelta(minutes=3)).isoformat()
    paid = event(
        "a", 3, "paid", **parcel(7, "stored", 3, amount_due=2040), **money, paid_at=paid_at
    )
    ingest.handle(evt_topic(), paid.payload(), T0)
    with hub_db.transaction() as session:
        view = session.get_one(ParcelView, ("a", 7))
        assert view.paid_at is not None
        [row] = [r for r in station_rows(session, T0 + timedelta(minutes=5)) if r.name == "a"]
        hooks = session.exec(
            select(CarrierWebhook).where(CarrierWebhook.event == "parcel.paid")
        ).all()
    assert (row.unpaid, row.unpaid_cents, row.paid_today_cents) == (1, 990, 2040)
    [hook] = hooks
    assert hook.body["payment"] == money
    assert hook.body["parcel"]["id"] == 7
    text = str(hook.body).lower()
    assert "pi_" not in text
    assert "secret" not in text
