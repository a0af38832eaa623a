"""A station that drops (issue 26): "offline for" counts from the drop; after the setting
(FLEET_OFFLINE_ALERT_MIN) the hub raises its own "offline" alert, once, which operators see
with the station's own and which ends when the station is back; routing never picks it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from fleet.db import HubDatabase
from fleet.ingest import Ingest
from fleet.screens import list_views, views
from fleet.screens.i18n import Words
from fleet.screens.pages import status_words
from fleet.settings import HubSettings
from fleet.tables import AlertView
from locker.uplink.messages import Presence
from tests.fleet.hub.test_carriers import CarrierHub
from tests.fleet.hub.test_carriers import receiver as receiver  # noqa: F401  (a fixture)
from tests.fleet.receiver import Receiver


@pytest.fixture
def hub(hub_db: HubDatabase, receiver: Receiver) -> Iterator[CarrierHub]:  # noqa: F811
    made = CarrierHub(hub_db, receiver)
    made.ingest = Ingest(hub_db, offline_alert_after=timedelta(minutes=10))
    yield made
    made.http.close()


def offline_alerts(db: HubDatabase) -> list[tuple[str, str]]:
    with db.transaction() as session:
        rows = session.exec(select(AlertView).where(AlertView.kind == "offline")).all()
        return sorted((a.station, a.raised_at.isoformat()) for a in rows)


def test_a_dropped_station_is_offline_from_the_drop_then_alerted_and_never_routed_to(
    hub: CarrierHub,
) -> None:
    assert HubSettings(_env_file=None).offline_alert_min == 10  # type: ignore[call-arg]
    hub.online("a", {"M": 2}, {})
    hub.online("b", {"M": 2}, {})
    hub.clock.now += timedelta(hours=3)  # a was seen at T0 (its birth), and drops now
    dropped = hub.clock.now
    hub.handle("a", "state", Presence(station="a", online=False).payload())
    hub.clock.now += timedelta(minutes=4)
    words = Words("en")
    with hub.db.transaction() as session:
        [row] = views.station_rows(session, hub.clock.now, names=["a"])
        assert row.offline_since == dropped
        assert status_words(row, words, hub.clock.now) == "offline for 4 min"  # not 3 h 4 min
        assert row.needs_attention
        page = list_views.rows_page(session, hub.clock.now, show="attention")
        assert [r.name for r in page.rows] == ["a", "c", "z"]  # c and z never came
    # not yet ten minutes: no alert; the carrier is routed to b, which is online
    hub.ingest.sweep(hub.clock.now)
    assert offline_alerts(hub.db) == []
    assert hub.announce(tracking_number="T2").json()["station"]["name"] == "b"
    # ten minutes on: the alert, raised as of then, once however many sweeps
    hub.clock.now = dropped + timedelta(minutes=11)
    hub.ingest.sweep(hub.clock.now)
    hub.ingest.sweep(hub.clock.now)
    assert offline_alerts(hub.db) == [("a", (dropped + timedelta(minutes=10)).isoformat())]
    with hub.db.transaction() as session:
        assert list_views.fleet_summary(session).alerts == 1
        [row] = views.station_rows(session, hub.clock.now, names=["a"])
        assert row.alerts == 1
    assert hub.announce(tracking_number="T3").json()["station"]["name"] == "b"
    # a is back: the alert ends, "online" again
    hub.handle("a", "state", Presence(station="a", online=True, boot="b2").payload())
    assert offline_alerts(hub.db) == []
    with hub.db.transaction() as session:
        [row] = views.station_rows(session, hub.clock.now, names=["a"])
        assert row.online
        assert row.offline_since is None
