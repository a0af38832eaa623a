"""What a carrier reads of its announcement on the hub (over a real PostgreSQL, through the
real ingest): one ``state`` from the hub's sending to the parcel's end, with its sentence,
since when, the compartment and the deadline beside it; and an announcement that lapses at
its station (never brought in) leaves the hub's view of the station, frees its room, is
told to the carrier by a signed webhook, and may be announced again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from fleet import carrier_stream
from fleet.db import HubDatabase
from locker.notify.senders import WebhookPoster
from locker.notify.webhook_guard import WebhookGuard
from tests.fleet.hub.support import T0, parcel, views
from tests.fleet.hub.test_carriers import CARRIER, CarrierHub
from tests.fleet.receiver import Receiver, webhook_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r


@pytest.fixture
def hub(hub_db: HubDatabase, receiver: Receiver) -> Iterator[CarrierHub]:
    made = CarrierHub(hub_db, receiver)
    yield made
    made.http.close()


def read(hub: CarrierHub, tracking: str) -> dict[str, Any]:
    answer = hub.http.get(f"/api/v1/carrier/announcements/{tracking}", headers=hub.auth)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert "parcel_state" not in body  # one state, not two
    return body


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_an_announcement_reads_as_one_state_from_sent_to_its_end(hub: CarrierHub) -> None:
    hub.online("a", {"M": 4}, {})
    sent = hub.announce(tracking_number="TRK0003").json()
    assert (sent["state"], sent["compartment"], sent["problem"]) == ("sent_to_station", None, None)
    assert "has not answered yet" in sent["detail"]
    hub.clock.now = T0 + timedelta(seconds=30)
    hub.answer(hub.sent[0], ok=True, parcel_id=3)
    accepted = read(hub, "TRK0003")
    assert (accepted["state"], accepted["parcel_id"]) == ("announced", 3)
    assert at(accepted["since"]) == hub.clock.now  # the station's answer
    assert "expects it" in accepted["detail"]
    deadline = T0 + timedelta(days=7)
    # (the station's parcel state, what the carrier reads, its compartment, a new since)
    steps = [
        ("announced", "announced", None, False),
        ("reserved", "announced", 2, False),  # a courier is putting it in
        ("stored", "in_locker", 2, True),
        ("stored", "in_locker", 2, False),  # the same state again: since stands
        ("expired", "waiting_for_courier", 2, True),
        ("returned", "returned", None, True),
    ]
    since = at(accepted["since"])
    for station_state, state, box, changed in steps:
        hub.emit("a", "parcel", **parcel(3, station_state, box, carrier=CARRIER))
        if changed:
            since = T0 + timedelta(minutes=hub.seq["a"])  # the event's time (support.event)
        body = read(hub, "TRK0003")
        assert (body["state"], body["compartment"], at(body["since"])) == (state, box, since)
        if state == "in_locker":
            assert at(body["deadline"]) == deadline
            assert body["detail"] == (
                "In compartment 2 at station a, for its recipient to collect by "
                "2026-11-09 08:00 UTC."
            )
        if station_state == "reserved":
            assert body["detail"] == "A courier is putting it into compartment 2 at station a."
    assert read(hub, "TRK0003")["detail"] == "Taken back by a courier from station a."
    assert [p[1] for p in views(hub.db)["parcels"]] == []  # gone from the station's view


def test_a_lapsed_announcement_leaves_the_hubs_view_and_its_carrier_hears_of_it(
    hub: CarrierHub, receiver: Receiver
) -> None:
    hub.online("a", {"M": 1}, {})
    assert hub.announce(tracking_number="TRK0005", station="a").status_code == 202
    hub.answer(hub.sent[0], ok=True, parcel_id=5)
    hub.emit("a", "parcel", **parcel(5, "announced", None, carrier=CARRIER))
    assert [(p[0], p[1], p[3]) for p in views(hub.db)["parcels"]] == [(5, "TRK0005", "announced")]
    full = hub.announce(tracking_number="TRK0006", station="a")  # its M is announced
    assert full.json()["code"] == "station_full"

    hub.emit("a", "parcel", **parcel(5, "lapsed", None, carrier=CARRIER, deadline=None))
    assert views(hub.db)["parcels"] == []  # the hub no longer shows it waiting at a
    body = read(hub, "TRK0005")
    assert (body["state"], body["compartment"], body["deadline"]) == ("lapsed", None, None)
    assert at(body["since"]) == T0 + timedelta(minutes=hub.seq["a"])
    assert "no longer expects it" in body["detail"]
    poster = WebhookPoster(WebhookGuard({"127.0.0.1"}))
    assert carrier_stream.deliver_due(hub.db, poster, hub.clock) == 1
    [told] = receiver.bodies()
    assert (told["event"], told["station"]) == ("parcel.lapsed", "a")
    assert (told["parcel"]["tracking_number"], told["parcel"]["state"]) == ("TRK0005", "lapsed")
    assert receiver.all_signed()

    # its room is a's again, and its tracking number may be announced anew
    again = hub.announce(tracking_number="TRK0005", station="a")
    assert again.status_code == 202, again.text
    assert again.json()["state"] == "sent_to_station"
    assert len(hub.sent) == 2
    assert hub.sent[1].args["tracking_number"] == "TRK0005"
