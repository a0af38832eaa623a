"""A hypothesis state machine over the whole fleet path: a served station (simulator,
SQLite) with its uplink, a real Mosquitto, a real hub worker on a real PostgreSQL, and
the hub's commands. The rules deposit, collect, take the broker down and up, take the
hub's worker down and up, and send commands. After every step the hub holds nothing the
station has not had: every event it stored is the station's own under that number, every
parcel state it shows is one the station went through, it is never ahead of the station.
At the end, with every link up, the hub converges to the station's truth."""

from __future__ import annotations

import json
import tempfile
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import col, select

from fleet import commands
from fleet.commands import BackInServiceArgs, OutOfServiceArgs
from fleet.engines import Postgres
from fleet.tables import CommandRow, EventRow, ParcelView
from fleet.worker import Worker
from locker.store.tables import OutboxEvent
from tests.api.http_helpers import StoredParcel, store
from tests.api.live import LiveStation, live_station, wait_until
from tests.fleet.engines import PgDatabase
from tests.fleet.test_fleet_end_to_end import (
    Fleet,
    assert_equal_truth,
    collect_and_empty,
    fleet,
    hub_state,
)


class FleetMachine(RuleBasedStateMachine):
    server: Postgres  # one cluster for the whole run, a fresh database per example

    def __init__(self) -> None:
        super().__init__()
        self.stack = ExitStack()
        self.stored: list[StoredParcel] = []
        self.broker_up = True
        self.worker_up = True
        self.out_of_service: set[int] = set()

    @initialize()
    def start(self) -> None:
        folder = Path(self.stack.enter_context(tempfile.TemporaryDirectory()))
        name = f"m_{uuid.uuid4().hex[:10]}"
        self.server.create_database(name)
        self.f: Fleet = self.stack.enter_context(fleet(folder, PgDatabase(self.server, name)))
        station_dir = folder / "station"
        station_dir.mkdir()
        self.live: LiveStation = self.stack.enter_context(
            live_station(station_dir, background=False, **self.f.station_env)
        )
        self.courier: httpx.Client = self.stack.enter_context(self.live.client("courier"))
        self.customer: httpx.Client = self.stack.enter_context(self.live.client(None))

    def teardown(self) -> None:
        try:
            if hasattr(self, "f"):
                self.broker_on()
                self.worker_on()
                assert_equal_truth(self.f, self.live)
        finally:
            self.stack.close()

    # --- the station -------------------------------------------------------------------

    @precondition(lambda self: len(self.stored) < 8)
    @rule()
    def deposit(self) -> None:
        # a number of its own: one tracking number is one live parcel at a station
        tracking = f"TRK-{uuid.uuid4().hex[:12]}"
        self.stored.append(store(self.live, self.courier, tracking=tracking))

    @precondition(lambda self: self.stored)
    @rule(data=st.data())
    def collect(self, data: st.DataObject) -> None:
        parcel = self.stored.pop(data.draw(st.integers(0, len(self.stored) - 1)))
        collect_and_empty(self.live, self.customer, parcel)

    # --- the links ---------------------------------------------------------------------

    @precondition(lambda self: self.broker_up)
    @rule()
    def broker_off(self) -> None:
        self.f.mosquitto.stop()
        self.broker_up = False

    @precondition(lambda self: not self.broker_up)
    @rule()
    def broker_on(self) -> None:
        if not self.broker_up:
            self.f.mosquitto.start()
            self.broker_up = True

    @precondition(lambda self: self.worker_up)
    @rule()
    def worker_off(self) -> None:
        self.f.worker.stop()
        self.worker_up = False

    @precondition(lambda self: not self.worker_up)
    @rule()
    def worker_on(self) -> None:
        if not self.worker_up:
            self.f.worker = Worker(self.f.db, self.f.settings)
            self.f.worker.start()
            self.worker_up = True

    # --- the hub's commands ------------------------------------------------------------

    @precondition(lambda self: self.worker_up and self.broker_up)
    @rule(compartment=st.integers(1, 40))
    def toggle_service(self, compartment: int) -> None:
        """Out of service and back (a number the layout lacks is refused, changing nothing)."""
        back = compartment in self.out_of_service
        args = (
            BackInServiceArgs(compartment_id=compartment)
            if back
            else OutOfServiceArgs(compartment_id=compartment, reason="machine")
        )
        with self.f.db.transaction() as session:
            sent = commands.issue(
                session,
                "a",
                "back_in_service" if back else "out_of_service",
                args,
                by="operator:machine",
                now=datetime.now(UTC),
            )
        self.f.worker.publish(sent)

        def answered() -> str:
            with self.f.db.transaction() as session:
                row = session.get(CommandRow, sent.id)
                return row.state if row is not None else "sent"

        wait_until(lambda: answered() != "sent", timeout_s=30)
        if answered() == "ok":
            self.out_of_service.symmetric_difference_update({compartment})
        else:
            known = {spec.id for spec in self.live.runtime.station.layout.compartments}
            assert compartment not in known  # refused only for a compartment it lacks

    # --- what must always hold ---------------------------------------------------------

    @invariant()
    def the_hub_holds_only_what_the_station_had(self) -> None:
        if not hasattr(self, "f"):
            return
        station = self.live.runtime.station
        with station.db.read() as session:
            ours = {
                row.hub_seq: (row.uid, row.event.removeprefix("hub."), row.detail)
                for row in session.exec(
                    select(OutboxEvent).where(col(OutboxEvent.hub_seq).is_not(None))
                )
            }
        history: dict[int, set[str]] = {}
        for _uid, kind, detail in ours.values():
            if kind == "parcel":
                facts = json.loads(detail)
                history.setdefault(facts["id"], set()).add(facts["state"])
        with self.f.db.transaction() as session:
            events = session.exec(select(EventRow).where(EventRow.station == "a")).all()
            parcels = session.exec(select(ParcelView).where(ParcelView.station == "a")).all()
        for event in events:
            assert event.seq in ours, f"the hub has event {event.seq} the station never wrote"
            assert ours[event.seq][0] == event.event_id
            assert ours[event.seq][1] == event.type
        for parcel in parcels:
            assert parcel.state in history.get(parcel.parcel_id, set())
        assert hub_state(self.f).contiguous_seq <= max(ours, default=0)


def test_the_hub_never_holds_what_the_station_had_not_and_converges(
    pg_server: Postgres,
) -> None:
    FleetMachine.server = pg_server
    run_state_machine_as_test(
        FleetMachine,
        settings=settings(max_examples=4, stateful_step_count=12, deadline=None),
    )
