"""The station's side of the uplink, against a real Mosquitto with the hub's generated
configuration: the station (served as ``locker serve`` runs it, on the simulator and a
SQLite file) publishes its events in order, keeps them through a broker outage and sends
them when it is back, and answers the hub's commands once each. Here the hub is a plain
MQTT 5 client with the hub's credentials, so only the station is under test."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from api.uplink import QUIET_WRITES_S
from fleet.engines import FleetBroker
from locker.store.tables import Parcel
from locker.uplink import outgoing
from locker.uplink.messages import UP, Command, CommandResult, Event, Presence, topic
from tests.api.http_helpers import API, ok, pulses, store
from tests.api.live import LiveStation, live_station, wait_until
from tests.fleet.engines import MqttPeer, PeerFactory

KEY = secrets.token_bytes(32)


@contextmanager
def station_a(tmp_path: Path, broker: FleetBroker) -> Iterator[LiveStation]:
    user, password = broker.credentials("a")
    with live_station(
        tmp_path,
        background=False,
        hub_station="a",
        mqtt_host="127.0.0.1",
        mqtt_port=broker.port,
        mqtt_user=user,
        mqtt_password=password,
        hub_command_key=KEY.hex(),
        mqtt_keepalive_s=5,
    ) as live:
        yield live


def hub_peer(mqtt: PeerFactory, broker: FleetBroker, *, client_id: str = "") -> MqttPeer:
    """The hub's user on a persistent session, reading everything station a sends."""
    peer = mqtt(
        broker.port,
        broker.hub_user,
        broker.hub_password,
        client_id=client_id or f"hub-{uuid.uuid4().hex[:8]}",
        clean_start=False,
        session_expiry=3600,
    )
    assert not peer.connect().is_failure
    for kind in UP:  # what the hub's role may subscribe to (the broker checks)
        assert [c.value for c in peer.subscribe(topic("a", kind))] == [1]
    return peer


def events_until(peer: MqttPeer, last: int, first: int = 1) -> dict[int, Event]:
    """Events received (each number once, however often it came) until every number from
    ``first`` to ``last`` has come."""
    seen: dict[int, Event] = {}
    while not set(range(first, last + 1)) <= set(seen):
        message = peer.expect(lambda m: m.topic == topic("a", "evt"))
        event = Event.model_validate_json(message.payload)
        seen.setdefault(event.seq, event)
    return seen


def command(kind: str, **args: object) -> Command:
    return Command(
        id=uuid.uuid4().hex,
        station="a",
        type=kind,  # type: ignore[arg-type]
        args=args,
        issued_at=datetime.now(UTC),
        by="op:ida",
    ).signed(KEY)


def answer(peer: MqttPeer, sent: Command) -> CommandResult:
    assert not peer.publish(topic("a", "cmd"), sent.payload()).is_failure
    while True:
        message = peer.expect(lambda m: m.topic == topic("a", "res"))
        result = CommandResult.model_validate_json(message.payload)
        if result.command_id == sent.id:
            return result


def test_a_deposit_and_collection_reach_the_hub_in_order(
    tmp_path: Path, fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    hub = hub_peer(mqtt, fleet_broker)
    with station_a(tmp_path, fleet_broker) as live, live.client("courier") as courier:
        birth = Presence.model_validate_json(
            hub.expect(lambda m: m.topic == topic("a", "state")).payload
        )
        assert birth.online
        parcel = store(live, courier)
        with live.client(None) as customer:
            ok(customer.post(f"{API}/collect", json={"code": parcel.pin}))
        last = outgoing.newest_seq(live.runtime.station)
        seen = events_until(hub, last)
        assert sorted(seen) == list(range(1, last + 1))
        states = [e.data["state"] for _, e in sorted(seen.items()) if e.type == "parcel"]
        assert states[-3:] == ["reserved", "stored", "collected"]
        # At least up to the collection: the sender's recount of free capacity may follow.
        wait_until(lambda: outgoing.acked_seq(live.runtime.station) >= last)
        everything = b"".join(
            Event.model_validate_json(e.model_dump_json()).payload() for e in seen.values()
        )
        assert parcel.pin.encode() not in everything
        assert parcel.qr_token.encode() not in everything
    # a clean stop says goodbye (retained): the hub sees the station offline
    gone = Presence.model_validate_json(
        hub.expect(
            lambda m: m.topic == topic("a", "state") and b'"online":false' in m.payload
        ).payload
    )
    assert not gone.online


def test_a_broker_outage_loses_nothing_and_sends_it_all_in_order(
    tmp_path: Path, fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    hub = hub_peer(mqtt, fleet_broker, client_id="hub-outage")
    with station_a(tmp_path, fleet_broker) as live, live.client("courier") as courier:
        station = live.runtime.station
        store(live, courier, tracking="OUT-0")
        # Settled: every event acknowledged and written, and the sender's recount of free
        # capacity (which follows within QUIET_WRITES_S) sent and acknowledged as well.
        wait_until(lambda: outgoing.acked_seq(station) == outgoing.newest_seq(station))
        time.sleep(3 * QUIET_WRITES_S)
        wait_until(lambda: outgoing.acked_seq(station) == outgoing.newest_seq(station))
        before = outgoing.acked_seq(station)
        hub.close()
        fleet_broker.stop()
        codes = [store(live, courier, tracking=f"OUT-{n}") for n in range(1, 6)]
        with live.client(None) as customer:
            for parcel in codes[:3]:
                ok(customer.post(f"{API}/collect", json={"code": parcel.pin}))
        assert outgoing.acked_seq(station) == before  # nothing acknowledged while away
        fleet_broker.start()
        hub = hub_peer(mqtt, fleet_broker, client_id="hub-outage")  # its session kept
        last = outgoing.newest_seq(station)
        seen = events_until(hub, last, first=before + 1)
        assert max(seen) == last  # and every number after the outage's start came
        # everything up to it acknowledged (the sender's recount of free capacity may add
        # an event after it meanwhile)
        wait_until(lambda: outgoing.acked_seq(station) >= last)
        with station.db.read() as session:
            collected = session.exec(select(Parcel).where(Parcel.state == "collected")).all()
        assert len(collected) == 3


def test_commands_are_applied_once_and_none_opens_a_door(
    tmp_path: Path, fleet_broker: FleetBroker, mqtt: PeerFactory
) -> None:
    hub = hub_peer(mqtt, fleet_broker)
    with station_a(tmp_path, fleet_broker) as live:
        station = live.runtime.station
        wait_until(lambda: live.ctx is not None and live.sim is not None)
        before = pulses(live)
        announce = command(
            "announce",
            carrier="Parcel Co",
            tracking_number="HUB-1",
            recipient_name="Ida Lund",
            size="M",
        )
        first = answer(hub, announce)
        assert first.ok
        again = answer(hub, announce)  # QoS 1 may deliver it twice; a hub may resend
        assert again == first
        with station.db.read() as session:
            rows = session.exec(select(Parcel).where(Parcel.tracking_number == "HUB-1")).all()
        assert [r.state.value for r in rows] == ["announced"]
        assert first.result["parcel_id"] == rows[0].id

        unknown = answer(hub, command("out_of_service", compartment_id=999, reason="x"))
        assert not unknown.ok
        assert unknown.problem is not None
        assert unknown.problem.code == "compartment_not_found"
        bad_args = answer(hub, command("extend", parcel_id="x", until="soon"))
        assert bad_args.problem is not None
        assert bad_args.problem.code == "invalid_request"
        forged = command("out_of_service", compartment_id=1, reason="x").model_copy(
            update={"sig": "0" * 64}
        )
        refused = answer(hub, forged)
        assert refused.problem is not None
        assert refused.problem.code == "bad_signature"
        taken = answer(hub, command("out_of_service", compartment_id=2, reason="hinge"))
        assert taken.ok
        back = answer(hub, command("back_in_service", compartment_id=2))
        assert back.ok
        assert pulses(live) == before  # no command opened a door

        # the courier deposits the parcel the hub announced
        with live.client("courier") as courier:
            reserved = ok(courier.post(f"{API}/parcels/{rows[0].id}/reserve"))
            assert reserved["compartment_id"]
