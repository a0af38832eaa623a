"""A station and the hub over the real engines: Mosquitto with the configuration the hub
generates from its registry, PostgreSQL for the hub, the station as ``locker serve`` runs
it (simulator, SQLite file) with its uplink. What the station does shows up in the hub;
what the hub announces reaches the station; outages of the broker or of the hub's
database lose nothing, and the hub ends equal to the station's truth, row by row."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import col, select

from api.uplink import QUIET_WRITES_S
from fleet import broker, commands, dynsec, registry
from fleet.commands import AnnounceArgs, OutOfServiceArgs, SnapshotArgs
from fleet.db import HubDatabase
from fleet.engines import Mosquitto, engine_folder, free_port
from fleet.settings import HubSettings
from fleet.tables import CommandRow, CompartmentView, EventRow, ParcelView, StationState
from fleet.worker import Worker
from locker.store.tables import Compartment, Parcel
from locker.types import ParcelState
from locker.uplink import outgoing
from locker.uplink.snapshot import snapshot
from tests.api.http_helpers import API, StoredParcel, ok, store
from tests.api.live import LiveStation, live_station, wait_until
from tests.fleet.engines import PgDatabase

LIVE = (ParcelState.ANNOUNCED, ParcelState.RESERVED, ParcelState.STORED, ParcelState.EXPIRED)


@dataclass
class Fleet:
    db: HubDatabase
    mosquitto: Mosquitto
    worker: Worker
    settings: HubSettings
    station_env: dict[str, object]


@contextmanager
def fleet(tmp_path: Path, pg: PgDatabase, **hub: object) -> Iterator[Fleet]:
    db = HubDatabase(pg.url)
    db.upgrade()
    creds = registry.add_station(db, "a", datetime.now(UTC))
    folder = engine_folder("lps-mqtt-")
    port = free_port()
    hub_password = broker.new_password()
    users = [broker.BrokerUser(name, hashed) for name, hashed in registry.stations(db)]
    dynsec.apply_broker_config(folder, users, hub_password, port=port)
    mosquitto = Mosquitto(folder, port)
    mosquitto.start()
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
        _env_file=None,  # type: ignore[call-arg]
        **hub,  # type: ignore[arg-type]
    )
    worker = Worker(db, settings)
    worker.start()
    env: dict[str, object] = {
        "hub_station": "a",
        "mqtt_host": "127.0.0.1",
        "mqtt_port": port,
        "mqtt_user": creds.broker_user,
        "mqtt_password": creds.broker_password,
        "hub_command_key": creds.command_key,
        "mqtt_keepalive_s": 5,
    }
    made = Fleet(db, mosquitto, worker, settings, env)
    try:
        yield made
    finally:
        made.worker.stop()  # the one running now (a test may have started another)
        mosquitto.remove()
        db.close()


def station_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "station"
    folder.mkdir(exist_ok=True)
    return folder


def collect_and_empty(live: LiveStation, customer: httpx.Client, parcel: StoredParcel) -> None:
    """The customer collects, takes the parcel out and closes the door (it is free again)."""
    ok(customer.post(f"{API}/collect", json={"code": parcel.pin}))
    live.sim.take(parcel.compartment_id)
    live.sim.close(parcel.compartment_id)


def hub_state(f: Fleet) -> StationState:
    with f.db.transaction() as session:
        state = session.get(StationState, "a")
        assert state is not None
        return state


def converged(f: Fleet, live: LiveStation) -> bool:
    return hub_state(f).contiguous_seq == outgoing.newest_seq(live.runtime.station)


def station_truth(live: LiveStation) -> tuple[set[tuple[int, str, int | None]], dict[int, str]]:
    """The live parcels (id, state, compartment) and each compartment's state."""
    station = live.runtime.station
    with station.db.read() as session:
        parcels = {
            (p.id or 0, p.state.value, p.compartment_id)
            for p in session.exec(select(Parcel).where(col(Parcel.state).in_(LIVE))).all()
        }
        assert session.exec(select(Compartment)).all()
    states = {c.id: c.state for c in snapshot(station, "a").compartments}
    return parcels, states


def hub_truth(f: Fleet) -> tuple[set[tuple[int, str, int | None]], dict[int, str]]:
    with f.db.transaction() as session:
        parcels = {
            (p.parcel_id, p.state, p.compartment_id)
            for p in session.exec(select(ParcelView).where(ParcelView.station == "a")).all()
        }
        compartments = {
            c.compartment_id: c.state
            for c in session.exec(select(CompartmentView).where(CompartmentView.station == "a"))
        }
    return parcels, compartments


def assert_equal_truth(f: Fleet, live: LiveStation) -> None:
    wait_until(lambda: converged(f, live), timeout_s=60)
    # The uplink's sender recounts free capacity within QUIET_WRITES_S of a change, as an
    # event of its own: let it come, then wait for the hub to have it too.
    time.sleep(QUIET_WRITES_S + 0.5)
    wait_until(lambda: converged(f, live), timeout_s=60)
    parcels, compartments = station_truth(live)
    hub_parcels, hub_compartments = hub_truth(f)
    assert hub_parcels == parcels
    if hub_compartments:  # the hub draws every compartment once it has had a snapshot
        assert set(hub_compartments) == set(compartments)
    with f.db.transaction() as session:
        seqs = [
            r.seq
            for r in session.exec(
                select(EventRow).where(EventRow.station == "a").order_by(col(EventRow.seq))
            )
        ]
    assert seqs == list(range(1, outgoing.newest_seq(live.runtime.station) + 1))


def test_a_deposit_and_a_collection_show_in_the_hub_and_its_announcement_is_deposited(
    tmp_path: Path, pg_database: PgDatabase
) -> None:
    with (
        fleet(tmp_path, pg_database) as f,
        live_station(station_dir(tmp_path), background=False, **f.station_env) as live,
        live.client("courier") as courier,
    ):
        parcel = store(live, courier)
        with live.client(None) as customer:
            ok(customer.post(f"{API}/collect", json={"code": parcel.pin}))
        assert_equal_truth(f, live)
        with f.db.transaction() as session:
            states = [
                r.data["state"]
                for r in session.exec(
                    select(EventRow)
                    .where(EventRow.station == "a", EventRow.type == "parcel")
                    .order_by(col(EventRow.seq))
                )
                if r.data["id"] == parcel.id
            ]
        assert states == ["announced", "reserved", "stored", "collected"]

        # the hub announces a parcel; the station takes it; the courier deposits it
        with f.db.transaction() as session:
            sent = commands.issue(
                session,
                "a",
                "announce",
                AnnounceArgs(
                    tracking_number="HUB-7",
                    carrier="Parcel Co",
                    size="M",
                    recipient_name="Ida Lund",
                ),
                by="operator:ida",
                now=datetime.now(UTC),
            )
        f.worker.publish(sent)

        def answered() -> bool:
            with f.db.transaction() as session:
                row = session.get(CommandRow, sent.id)
                return row is not None and row.state != "sent"

        wait_until(answered, timeout_s=30)
        with f.db.transaction() as session:
            row = session.get(CommandRow, sent.id)
            assert row is not None
            assert row.state == "ok", (row.problem_code, row.problem_detail)
            assert row.result is not None
            announced = int(row.result["parcel_id"])
        reserved = ok(courier.post(f"{API}/parcels/{announced}/reserve"))
        cid = reserved["compartment_id"]
        ok(courier.post(f"{API}/parcels/{announced}/deposit"))
        live.sim.put(cid)
        live.sim.close(cid)
        ok(courier.post(f"{API}/parcels/{announced}/confirm"))
        assert_equal_truth(f, live)
        assert (announced, "stored", cid) in hub_truth(f)[0]

        # a command that may not apply gets the station's refusal, and opens nothing
        with f.db.transaction() as session:
            refused = commands.issue(
                session,
                "a",
                "out_of_service",
                OutOfServiceArgs(compartment_id=999, reason="test"),
                by="operator:ida",
                now=datetime.now(UTC),
            )
        f.worker.publish(refused)

        def refusal() -> str | None:
            with f.db.transaction() as session:
                found = session.get(CommandRow, refused.id)
                return found.problem_code if found is not None else None

        wait_until(lambda: refusal() is not None, timeout_s=30)
        assert refusal() == "compartment_not_found"

        # a snapshot on request: the hub's front is then the station's, compartment by
        # compartment (one stands stored, the rest free)
        with f.db.transaction() as session:
            asked = commands.issue(
                session, "a", "snapshot", SnapshotArgs(), by="operator:ida", now=datetime.now(UTC)
            )
        f.worker.publish(asked)
        # (the compartments come with their conditions before: wait for the snapshot's states)
        wait_until(lambda: hub_truth(f) == station_truth(live), timeout_s=30)
        assert list(hub_truth(f)[1].values()).count("occupied") == 1


@pytest.mark.parametrize("away", ["broker", "hub database"])
def test_a_hundred_operations_with_the_broker_or_the_hubs_database_away_lose_nothing(
    tmp_path: Path, pg_database: PgDatabase, away: str
) -> None:
    with (
        fleet(tmp_path, pg_database) as f,
        live_station(station_dir(tmp_path), background=False, **f.station_env) as live,
        live.client("courier") as courier,
        live.client(None) as customer,
    ):
        store(live, courier, tracking="AWAY-0")
        assert_equal_truth(f, live)
        engine = f.mosquitto if away == "broker" else pg_database
        engine.stop()
        for n in range(50):  # 100 deposits and collections while it is away
            parcel = store(live, courier, tracking=f"AWAY-{n + 1}")
            if n % 7:  # every seventh stays in the station
                collect_and_empty(live, customer, parcel)
        engine.start()
        assert_equal_truth(f, live)
