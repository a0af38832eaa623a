"""A carrier announces parcels through the hub across three live stations (each as
``locker serve`` runs it, with its uplink, over the real Mosquitto and PostgreSQL), and its
webhook receiver, a real HTTP server on loopback, gets every state change once per
parcel, signed. Each parcel lands on a station that had room for it; a station gone
offline is given nothing, and what was sent to it before it dropped is delivered when it
is back. The stations' couriers bring each parcel in by its tracking number: it is the
announced parcel itself, so the hub shows one parcel for it, ``in_locker``; one that no
courier brings in lapses at its station, leaves the hub's view, and its carrier hears of
it. (The full 1,000 parcels: bench/fleet_carriers.py.)"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import select

from api.uplink import Uplink
from fleet import broker, carriers, dynsec, registry, routing
from fleet.app import create_app
from fleet.db import HubDatabase
from fleet.engines import Mosquitto, engine_folder, free_port
from fleet.settings import HubSettings
from fleet.tables import ParcelView, StationState
from fleet.worker import Worker
from locker.services.reminders import remind
from locker.services.staff import expire
from tests.api.http_helpers import API, ok
from tests.api.live import LiveStation, live_station, wait_until
from tests.fleet.engines import PgDatabase
from tests.fleet.receiver import Receiver, webhook_receiver

STATIONS = ("a", "b", "c")
CARRIER = "Parcel Co"  # the live stations' courier works for it
M_PER_STATION = 4  # the live layout's M compartments (tests/api/live.py)


@dataclass
class CarrierFleet:
    db: HubDatabase
    worker: Worker
    hub: TestClient
    auth: dict[str, str]
    receiver: Receiver
    stations: dict[str, LiveStation]
    parcels: dict[str, tuple[str, int]] = field(default_factory=dict)  # tracking: station, id

    def announce(self, tracking: str, **body: Any) -> httpx.Response:
        parcel = {"tracking_number": tracking, "size": "M", "recipient_name": "Ida Lund", **body}
        return self.hub.post("/api/v1/carrier/announcements", json=parcel, headers=self.auth)

    def state(self, tracking: str) -> dict[str, Any]:
        answer = self.hub.get(f"/api/v1/carrier/announcements/{tracking}", headers=self.auth)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def accepted(self, tracking: str) -> bool:
        body = self.state(tracking)
        assert body["state"] != "refused", body
        return body["state"] != "sent_to_station"  # the station answered

    def at_hub(self, tracking: str) -> list[tuple[str, int, str]]:
        """The hub's view of the parcels with this tracking number: station, id, state."""
        with self.db.transaction() as session:
            rows = session.exec(select(ParcelView).where(ParcelView.tracking_number == tracking))
            return sorted((p.station, p.parcel_id, p.state) for p in rows)

    def online(self, station: str) -> bool:
        with self.db.transaction() as session:
            return session.get_one(StationState, station).online

    def room_seen(self, station: str) -> int:
        with self.db.transaction() as session:
            return routing.room(session, station, "M", False)


@contextmanager
def carrier_fleet(tmp_path: Path, pg: PgDatabase) -> Iterator[CarrierFleet]:
    with ExitStack() as stack:
        db = HubDatabase(pg.url)
        stack.callback(db.close)
        db.upgrade()
        now = datetime.now(UTC)
        creds = {name: registry.add_station(db, name, now) for name in STATIONS}
        folder = engine_folder("lps-mqtt-")
        port = free_port()
        hub_password = broker.new_password()
        users = [broker.BrokerUser(name, hashed) for name, hashed in registry.stations(db)]
        dynsec.apply_broker_config(folder, users, hub_password, port=port)
        mosquitto = Mosquitto(folder, port)
        mosquitto.start()
        stack.callback(mosquitto.remove)
        settings = HubSettings(
            database_url=SecretStr(pg.url),
            mqtt_host="127.0.0.1",
            mqtt_port=port,
            mqtt_user=broker.HUB_USER,
            mqtt_password=SecretStr(hub_password),
            mqtt_client_prefix=f"hub-{uuid.uuid4().hex[:6]}",
            data_dir=tmp_path / "hub",
            gap_grace_s=0.5,
            resend_every_s=1.0,
            webhook_every_s=0.05,
            webhook_allow_hosts="127.0.0.1",
            _env_file=None,  # type: ignore[call-arg]
        )
        receiver = stack.enter_context(webhook_receiver())
        made = carriers.add_carrier(db, CARRIER, list(STATIONS), receiver.url, now)
        receiver.key = made.signing_key
        worker = Worker(db, settings)
        worker.start()
        stack.callback(worker.stop)
        hub = stack.enter_context(
            TestClient(create_app(db, settings, worker.publish), raise_server_exceptions=False)
        )
        lives = {}
        for name in STATIONS:
            folder_of = tmp_path / name
            folder_of.mkdir()
            lives[name] = stack.enter_context(
                live_station(
                    folder_of,
                    background=False,
                    hub_station=name,
                    mqtt_host="127.0.0.1",
                    mqtt_port=port,
                    mqtt_user=creds[name].broker_user,
                    mqtt_password=creds[name].broker_password,
                    hub_command_key=creds[name].command_key,
                    mqtt_keepalive_s=5,
                )
            )
        fleet = CarrierFleet(
            db, worker, hub, {"Authorization": f"Bearer {made.token}"}, receiver, lives
        )
        # the hub has each station's birth and free capacity
        wait_until(lambda: all(fleet.room_seen(s) == M_PER_STATION for s in STATIONS), timeout_s=30)
        yield fleet


def store_announced(live: LiveStation, parcel_id: int) -> tuple[str, int]:
    """The station's courier deposits the announced parcel; its PIN and compartment."""
    with live.client("courier") as courier:
        cid = ok(courier.post(f"{API}/parcels/{parcel_id}/reserve"))["compartment_id"]
        ok(courier.post(f"{API}/parcels/{parcel_id}/deposit"))
        live.sim.put(cid)
        live.sim.close(cid)
        body = ok(courier.post(f"{API}/parcels/{parcel_id}/confirm"))
    assert body["parcel"]["state"] == "stored", body
    pin: str = body["code"]["pin"]
    return pin, cid


def bring_in(live: LiveStation, tracking: str) -> tuple[int, str, int]:
    """The station's courier brings a parcel in by its tracking number (as at the courier
    screen); its id, PIN and compartment."""
    parcel = {"tracking_number": tracking, "size": "M", "recipient_name": "Ida Lund"}
    with live.client("courier") as courier:
        opened = ok(courier.post(f"{API}/deposits", json={"parcel": parcel}), 201)
        pid, cid = opened["parcel"]["id"], opened["door"]["compartment_id"]
        live.sim.put(cid)
        live.sim.close(cid)
        body = ok(courier.post(f"{API}/parcels/{pid}/confirm"))
    assert body["parcel"]["state"] == "stored", body
    return pid, body["code"]["pin"], cid


def collect(live: LiveStation, pin: str, cid: int) -> None:
    with live.client(None) as customer:
        ok(customer.post(f"{API}/collect", json={"code": pin}))
    live.sim.take(cid)
    live.sim.close(cid)


def deposit_and_collect(f: CarrierFleet, trackings: list[str], *, keep: str = "") -> int:
    """Each announced parcel brought in by its tracking number, and collected, but
    ``keep``; the compartment ``keep`` is in."""
    kept = 0
    for tracking in trackings:
        wait_until(lambda t=tracking: f.accepted(t), timeout_s=30)  # type: ignore[misc]
        body = f.state(tracking)
        station = body["station"]["name"]
        f.parcels[tracking] = (station, body["parcel_id"])
        pid, pin, cid = bring_in(f.stations[station], tracking)
        assert pid == body["parcel_id"]  # the announced parcel itself, no second one
        if tracking != keep:
            collect(f.stations[station], pin, cid)
        else:
            kept = cid
    return kept


def test_a_carrier_announces_across_three_stations_and_hears_of_every_change_once(
    tmp_path: Path, pg_database: PgDatabase
) -> None:
    with carrier_fleet(tmp_path, pg_database) as f:
        # round 1: every station online; the best station each time, until none has room
        first = [f"R1-{n:02d}" for n in range(3 * M_PER_STATION)]
        routed = Counter()
        for n, tracking in enumerate(first):
            answer = f.announce(tracking, recipient_postcode=f"{n % 3}0000")
            assert answer.status_code == 202, answer.text
            body = answer.json()
            routed[body["station"]["name"]] += 1
            assert body["state"] == "sent_to_station"
        assert routed == dict.fromkeys(STATIONS, M_PER_STATION)  # each had room, no more
        full = f.announce("R1-full")
        assert full.status_code == 409
        assert full.json()["code"] == "no_station_fits"
        assert f.announce(first[0]).status_code == 200  # the same again: the first answer
        deposit_and_collect(f, first)

        # round 2: c drops; what was sent to it just before waits for it
        c = f.stations["c"]
        assert c.app is not None
        c.app.state.uplink.stop()
        to_c = ["R2-c1", "R2-c2"]
        for tracking in to_c:
            assert f.announce(tracking, station="c").status_code == 202
        wait_until(lambda: not f.online("c"), timeout_s=30)
        wait_until(lambda: all(f.room_seen(s) == M_PER_STATION for s in ("a", "b")), timeout_s=30)
        while_away = [f"R2-{n:02d}" for n in range(2 * M_PER_STATION)]
        for tracking in while_away:
            body = f.announce(tracking).json()
            assert body["station"]["name"] in ("a", "b"), body  # never the offline one
        assert f.announce("R2-full").json()["code"] == "no_station_fits"
        assert not any(f.accepted(t) for t in to_c)
        back = Uplink(c.ctx)
        back.start()
        try:
            kept = while_away[0]
            box = deposit_and_collect(f, to_c + while_away, keep=kept)
            assert {f.parcels[t][0] for t in to_c} == {"c"}
            # the hub shows one parcel for it, in its compartment
            wait_until(lambda: f.state(kept)["state"] == "in_locker", timeout_s=30)
            assert f.state(kept)["compartment"] == box
            assert f.at_hub(kept) == [(*f.parcels[kept], "stored")]

            # a reminder for the parcel left in a compartment, a day before its deadline
            station, _pid = f.parcels[while_away[0]]
            live = f.stations[station]
            live.clock.advance(days=6)
            assert remind(
                live.runtime.station,
                remind_before=timedelta(hours=48),
                last_call_before=timedelta(hours=12),
            )
            # an announcement no courier brings in lapses at its station: the hub's view of
            # that station drops it and the carrier hears of it
            other = "a" if station != "a" else "b"  # the kept parcel's clock stays
            assert f.announce("LAPSES", station=other).status_code == 202
            wait_until(lambda: f.at_hub("LAPSES") != [], timeout_s=30)
            [(_, lapsing, _)] = f.at_hub("LAPSES")
            f.parcels["LAPSES"] = (other, lapsing)
            f.stations[other].clock.advance(days=8)
            assert expire(f.stations[other].runtime.station).lapsed_announcements == (lapsing,)
            wait_until(lambda: f.state("LAPSES")["state"] == "lapsed", timeout_s=30)
            assert f.at_hub("LAPSES") == []

            every = first + to_c + while_away
            expected = Counter((t, "parcel.stored") for t in every) + Counter(
                (t, "parcel.collected") for t in every if t != while_away[0]
            )
            expected[(while_away[0], "parcel.reminder")] += 1
            expected[("LAPSES", "parcel.lapsed")] += 1

            def got() -> Counter[tuple[str, str]]:
                return Counter(
                    (b["parcel"]["tracking_number"], b["event"]) for b in f.receiver.bodies()
                )

            wait_until(
                lambda: got() == expected or sum(got().values()) > sum(expected.values()),
                timeout_s=60,
            )
            assert got() == expected  # every change once, none twice
            assert f.receiver.all_signed()
            for body in f.receiver.bodies():
                assert (body["station"], body["parcel"]["id"]) == f.parcels[
                    body["parcel"]["tracking_number"]
                ]
                assert "code" not in body
                assert "pin" not in repr(body)
        finally:
            back.stop()
