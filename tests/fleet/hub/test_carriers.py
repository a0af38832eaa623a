"""Carriers on the hub over a real PostgreSQL: routing an announcement to the best
station (room, the accessible flag, distance, postcodes; never an offline or full one),
the station's answer, idempotency, and the signed webhook stream a real HTTP receiver on
loopback gets, in order, once per state change, retried until it takes it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from fleet import carrier_stream, carriers, registry
from fleet.app import create_app
from fleet.db import HubDatabase
from fleet.ingest import Ingest
from fleet.routing import AnnouncementRequest, Candidate, great_circle_km, rank
from fleet.settings import HubSettings
from fleet.tables import CarrierWebhook
from locker.notify.senders import WebhookPoster
from locker.notify.webhook_guard import WebhookGuard
from locker.uplink.messages import Command, CommandResult, Problem, topic
from tests.fleet.hub.support import T0, birth, event, parcel
from tests.fleet.receiver import Receiver, webhook_receiver

CARRIER = "DHL"  # the carrier name of support.parcel()
# Berlin, Hamburg, Munich
PLACES = {
    "a": ("Alexanderplatz 1, 10178 Berlin", "10178", 52.5219, 13.4132),
    "b": ("Jungfernstieg 1, 20354 Hamburg", "20354", 53.5530, 9.9925),
    "c": ("Marienplatz 1, 80331 München", "80331", 48.1374, 11.5755),
}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> Any:
        return self.now


class CarrierHub:
    def __init__(self, db: HubDatabase, receiver: Receiver) -> None:
        self.db = db
        self.clock = Clock()
        self.sent: list[Command] = []
        self.ingest = Ingest(db)
        self.seq: dict[str, int] = {}
        self.app = create_app(db, HubSettings(), self.sent.append, self.clock)
        self.http = TestClient(self.app, raise_server_exceptions=False)
        for name, (address, postcode, lat, lon) in PLACES.items():
            registry.add_station(db, name, T0)
            carriers.set_place(
                db,
                name,
                address=address,
                opening_hours="Mo-Sa 8-20",
                postcode=postcode,
                latitude=lat,
                longitude=lon,
            )
        registry.add_station(db, "z", T0)  # a station DHL may not use
        creds = carriers.add_carrier(db, CARRIER, ["a", "b", "c"], receiver.url, T0)
        receiver.key = creds.signing_key
        self.auth = {"Authorization": f"Bearer {creds.token}"}

    def handle(self, station: str, kind: str, payload: bytes) -> None:
        self.ingest.handle(topic(station, kind), payload, self.clock())  # type: ignore[arg-type]

    def online(self, station: str, free: dict[str, int], accessible: dict[str, int]) -> None:
        self.handle(station, "state", birth(station, self.seq.get(station, 0)).payload())
        self.emit(station, "capacity", free=free, accessible_free=accessible)

    def emit(self, station: str, kind: str, **data: Any) -> None:
        self.seq[station] = self.seq.get(station, 0) + 1
        self.handle(station, "evt", event(station, self.seq[station], kind, **data).payload())

    def answer(self, command: Command, *, ok: bool, parcel_id: int = 0, code: str = "") -> None:
        result = CommandResult(
            command_id=command.id,
            station=command.station,
            ok=ok,
            result={"parcel_id": parcel_id} if ok else {},
            problem=None if ok else Problem(code=code, detail=f"the station says {code}"),
            at=self.clock(),
        )
        self.handle(command.station, "res", result.payload())

    def announce(self, **body: Any) -> Any:
        parcel_body = {"size": "M", "recipient_name": "Ida Lund", **body}
        return self.http.post("/api/v1/carrier/announcements", json=parcel_body, headers=self.auth)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r


@pytest.fixture
def hub(hub_db: HubDatabase, receiver: Receiver) -> Iterator[CarrierHub]:
    made = CarrierHub(hub_db, receiver)
    yield made
    made.http.close()


def poster() -> WebhookPoster:
    return WebhookPoster(WebhookGuard({"127.0.0.1"}))


def test_the_best_station_is_the_nearest_with_room_and_never_an_offline_or_full_one(
    hub: CarrierHub,
) -> None:
    hub.online("a", {"M": 2}, {"M": 1})
    hub.online("b", {"M": 1}, {})
    # c is registered and near Munich, but never came online
    munich = {"recipient_latitude": 48.14, "recipient_longitude": 11.58}
    first = hub.announce(tracking_number="T1", **munich)
    assert first.status_code == 202, first.text
    body = first.json()
    # Munich is offline: the nearest online one is Berlin (504 km) before Hamburg (612 km)
    assert body["station"] == {
        "name": "a",
        "address": PLACES["a"][0],
        "opening_hours": "Mo-Sa 8-20",
        "postcode": "10178",
        "latitude": 52.5219,
        "longitude": 13.4132,
    }
    assert body["state"] == "sent_to_station"
    assert body["since"] == body["announced_at"]
    assert hub.sent[-1].station == "a"
    assert hub.sent[-1].type == "announce"
    assert hub.sent[-1].args["carrier"] == CARRIER
    # a's second M goes too; then a is full (its two M are announced): b, then none
    assert hub.announce(tracking_number="T2", **munich).json()["station"]["name"] == "a"
    assert hub.announce(tracking_number="T3", **munich).json()["station"]["name"] == "b"
    none = hub.announce(tracking_number="T4", **munich)
    assert none.status_code == 409
    assert none.json()["code"] == "no_station_fits"
    # a low compartment: a has one accessible M, but T1 and T2 took a's M room already
    low = hub.announce(tracking_number="T5", accessible=True)
    assert low.json()["code"] == "no_station_fits"
    # the station refuses T3: b has its room back; a collected parcel frees nothing announced
    hub.answer(hub.sent[-1], ok=False, code="compartment_not_found")
    state = hub.http.get("/api/v1/carrier/announcements/T3", headers=hub.auth).json()
    assert state["state"] == "refused"
    assert state["problem"] == {
        "code": "compartment_not_found",
        "detail": "the station says compartment_not_found",
    }
    assert "the station says compartment_not_found" in state["detail"]
    again = hub.announce(tracking_number="T3", **munich)  # refused: routed anew
    assert again.status_code == 202
    assert again.json()["station"]["name"] == "b"


def test_stations_are_ranked_by_distance_then_postcode_then_room() -> None:
    assert 500 < great_circle_km(52.5219, 13.4132, 48.1374, 11.5755) < 510  # Berlin-Munich
    ranked = rank(
        [
            Candidate("p", room=9, distance_km=None, shared_postcode=3),
            Candidate("q", room=1, distance_km=120.0, shared_postcode=0),
            Candidate("r", room=1, distance_km=15.0, shared_postcode=0),
            Candidate("s", room=9, distance_km=None, shared_postcode=0),
            Candidate("t", room=2, distance_km=None, shared_postcode=5),
            Candidate("u", room=12, distance_km=None, shared_postcode=0),
        ]
    )
    assert [c.station for c in ranked] == ["r", "q", "t", "p", "u", "s"]


def test_postcodes_alone_rank_the_same_then_the_longest_shared_start(hub: CarrierHub) -> None:
    for name in ("a", "b", "c"):
        hub.online(name, {"S": 3}, {})
    assert (
        hub.announce(tracking_number="P1", size="S", recipient_postcode="20354").json()["station"][
            "name"
        ]
        == "b"
    )
    assert (
        hub.announce(tracking_number="P2", size="S", recipient_postcode="80999").json()["station"][
            "name"
        ]
        == "c"
    )
    # no place given: the most room (a, b, c have 3, 2, 2 S left): a
    assert hub.announce(tracking_number="P3", size="S").json()["station"]["name"] == "a"


def test_a_named_station_and_its_refusals(hub: CarrierHub) -> None:
    hub.online("a", {"L": 1}, {})
    named = hub.announce(tracking_number="N1", size="L", station="a")
    assert named.status_code == 202
    assert named.json()["station"]["name"] == "a"
    full = hub.announce(tracking_number="N2", size="L", station="a")
    assert full.status_code == 409
    assert full.json()["code"] == "station_full"
    other = hub.announce(tracking_number="N3", station="z")
    assert other.status_code == 403
    assert other.json()["code"] == "station_not_allowed"
    unknown = hub.announce(tracking_number="N4", station="nowhere")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "station_not_found"
    bad = hub.announce(tracking_number="N5", recipient_latitude=1.0)
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_request"


def test_the_same_tracking_number_twice_is_one_announcement(hub: CarrierHub) -> None:
    hub.online("a", {"M": 5}, {})
    first = hub.announce(tracking_number="SAME", recipient_postcode="10178")
    second = hub.announce(tracking_number="SAME", size="L")
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json() == second.json()
    assert len(hub.sent) == 1
    hub.answer(hub.sent[0], ok=True, parcel_id=41)
    accepted = hub.http.get("/api/v1/carrier/announcements/SAME", headers=hub.auth).json()
    assert accepted["state"] == "announced"
    assert accepted["parcel_id"] == 41
    assert hub.announce(tracking_number="SAME").json()["state"] == "announced"
    listed = hub.http.get("/api/v1/carrier/announcements", headers=hub.auth).json()
    assert [a["tracking_number"] for a in listed] == ["SAME"]
    missing = hub.http.get("/api/v1/carrier/announcements/NOPE", headers=hub.auth)
    assert missing.status_code == 404
    assert missing.json()["code"] == "announcement_not_found"


def test_a_carrier_sees_its_stations_with_their_room(hub: CarrierHub) -> None:
    hub.online("a", {"M": 2, "S": 1}, {"S": 1})
    hub.announce(tracking_number="R1")
    stations = hub.http.get("/api/v1/carrier/stations", headers=hub.auth).json()
    assert [s["name"] for s in stations] == ["a", "b", "c"]
    assert stations[0]["online"] is True
    assert stations[1]["online"] is False
    assert stations[0]["free"] == {"S": 1, "M": 1, "L": 0, "XL": 0}
    assert stations[0]["accessible_free"]["S"] == 1


def test_the_webhook_stream_is_signed_ordered_once_per_change_and_retried(
    hub: CarrierHub, receiver: Receiver
) -> None:
    hub.online("a", {"M": 4}, {})
    hub.online("b", {"M": 4}, {})
    facts = {"carrier": CARRIER}
    stream = [
        ("a", parcel(1, "announced", None, **facts)),
        ("a", parcel(1, "reserved", 2, **facts)),
        ("a", parcel(1, "stored", 2, **facts)),
        ("b", parcel(7, "stored", 1, **facts)),
        (
            "a",
            parcel(1, "stored", 2, **{**facts, "deadline": (T0 + timedelta(days=9)).isoformat()}),
        ),
        ("a", parcel(2, "stored", 3, carrier="Other Express")),  # not DHL's
        ("b", parcel(7, "expired", 1, **facts)),
        ("b", parcel(7, "returned", None, **facts)),
        ("a", parcel(1, "collected", None, **facts)),
    ]
    for station, data in stream[:4]:
        hub.emit(station, "parcel", **data)
    hub.emit("a", "reminder", **parcel(1, "stored", 2, **facts), reminder="reminder")
    for station, data in stream[4:]:
        hub.emit(station, "parcel", **data)
    # the same event delivered twice (QoS 1 may) writes no second webhook
    hub.handle("a", "evt", event("a", 5, "parcel", **parcel(1, "stored", 2, **facts)).payload())
    receiver.fail_next = 2  # the receiver is down for a moment
    out = poster()
    assert carrier_stream.deliver_due(hub.db, out, hub.clock) == 0  # the head failed: all wait
    hub.clock.now += timedelta(seconds=1)
    assert carrier_stream.deliver_due(hub.db, out, hub.clock) == 0  # failed again, waits 2 s
    hub.clock.now += timedelta(seconds=2)
    assert carrier_stream.deliver_due(hub.db, out, hub.clock) == 6
    assert carrier_stream.deliver_due(hub.db, out, hub.clock) == 0
    got = receiver.bodies()
    assert [(b["station"], b["parcel"]["id"], b["event"]) for b in got] == [
        ("a", 1, "parcel.stored"),
        ("b", 7, "parcel.stored"),
        ("a", 1, "parcel.reminder"),
        ("b", 7, "parcel.expired"),
        ("b", 7, "parcel.returned"),
        ("a", 1, "parcel.collected"),
    ]
    assert receiver.all_signed()
    assert [b["delivery_id"] for b in got] == sorted(b["delivery_id"] for b in got)
    first = receiver.got[0]
    assert first.headers["X-Station-Delivery"] == str(got[0]["delivery_id"])
    assert first.headers["X-Station-Event"] == "parcel.stored"
    assert "pin" not in repr(got)
    assert "qr" not in repr(got)
    with hub.db.transaction() as session:
        rows = session.exec(select(CarrierWebhook).order_by(col(CarrierWebhook.id))).all()
        assert {r.state for r in rows} == {"sent"}
        assert rows[0].attempts == 3


def test_blank_text_is_refused_as_the_station_would_refuse_it(hub: CarrierHub) -> None:
    hub.online("a", {"M": 4}, {})
    answer = hub.announce(tracking_number="   ")
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_request"
    assert hub.sent == []
    assert hub.announce(tracking_number="  TRK0009 ").status_code == 202
    assert hub.sent[0].args["tracking_number"] == "TRK0009"


def test_the_request_schema_refuses_what_postgresql_could_not_hold() -> None:
    with pytest.raises(ValueError, match="pattern"):
        AnnouncementRequest.model_validate(
            {"tracking_number": "A\x00B", "size": "M", "recipient_name": "x"}
        )
