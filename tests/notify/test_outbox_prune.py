"""Old notifications are removed: events whose deliveries are all through (sent, given
up, or with nobody to tell) go with their deliveries once older than the retention; an
event not yet worked through, one with a delivery still pending, a reminder of a parcel
still stored, and the newest rows (whose ids SQLite would hand out again) stay. Real
SMTP on loopback, a real SQLite file; only the clock is moved."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from api.background import jobs
from locker.notify import outbox
from locker.notify.outbox import record_event
from locker.services import staff
from locker.services.reminders import remind
from locker.station import Station
from locker.store.tables import Delivery, OutboxEvent
from locker.types import DeliveryState
from tests.api.http_helpers import API, deposit, ok
from tests.api.live import live_station
from tests.mail_support import smtp_server
from tests.notify.outbox_station import notifier, open_station, store_for
from tests.support import FakeClock

KEEP = timedelta(days=30)


def events(station: Station) -> dict[int, tuple[str, int | None]]:
    """Every event left: id -> (event, parcel)."""
    with station.db.read() as session:
        rows = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.id))).all()
        return {r.id: (r.event, r.parcel_id) for r in rows if r.id is not None}


def deliveries(station: Station) -> list[tuple[int, DeliveryState]]:
    with station.db.read() as session:
        rows = session.exec(select(Delivery).order_by(col(Delivery.id))).all()
        return [(r.event_id, r.state) for r in rows]


def test_what_is_through_goes_after_the_retention_and_nothing_else(tmp_path: Path) -> None:
    clock = FakeClock()
    station, locks = open_station(tmp_path / "station.db", clock)
    with smtp_server() as server:
        worker = notifier(station, server.port)
        # a mail may wait longer than the retention: it is tried until it goes out
        worker.config = replace(worker.config, give_up_after=timedelta(days=90))
        ada = store_for(station, locks, "ada@example.org", "TRK-OLD")
        assert worker.run_once().sent == 1
        server.mailbox.refuse_to = {"bob@example.org"}  # bob's mail waits to be sent again
        bob = store_for(station, locks, "bob@example.org", "TRK-STUCK")
        assert worker.run_once().failed == 1
        clock.advance(days=5, hours=1)  # the reminders, two days before the deadlines
        assert remind(
            station, remind_before=timedelta(hours=48), last_call_before=timedelta(hours=24)
        )
        with station.db.read() as session:
            reminder, bob_reminder = session.exec(
                select(OutboxEvent.id)
                .where(OutboxEvent.event == "parcel.reminder")
                .order_by(col(OutboxEvent.parcel_id))
            ).all()
        report = worker.run_once()  # ada's reminder goes out; bob's two mails wait
        assert (report.sent, report.failed) == (1, 2)
        with station.db.write() as session:  # an event the notifier has not seen yet
            record_event(session, "alert.door_fault", now=clock.now, detail={"text": "x"})
        with station.db.write() as session:  # and the newest, with nobody to tell
            record_event(session, "alert.door_left_open", now=clock.now, detail={"text": "y"})
            session.flush()
            [unseen, newest] = outbox.unexpanded(session)
            outbox.add_deliveries(session, newest, [], now=clock.now)
        assert unseen.id is not None
        assert newest.id is not None
        before = events(station)
        bob_code = next(i for i, (e, p) in before.items() if (e, p) == ("code.issued", bob))
        assert [s for e, s in deliveries(station) if e == bob_code] == [DeliveryState.PENDING]

        clock.advance(days=24)  # the first of them are 29 days old: all stay
        assert worker.prune(KEEP) == 0
        assert events(station) == before

        clock.advance(days=8)  # now every one of them is over 30 days old
        removed = worker.prune(KEEP)
        left = events(station)
        assert removed == len(before) - len(left) > 0
        # ada's events are gone (her reminder stays while her parcel is still stored)
        assert [i for i, (_, p) in left.items() if p == ada] == [reminder]
        # of bob's, those whose deliveries are pending
        assert [i for i, (_, p) in left.items() if p == bob] == [bob_code, bob_reminder]
        assert unseen.id in left
        assert newest.id in left
        assert len(left) == 5
        assert {e for e, _ in deliveries(station)} == {bob_code, bob_reminder, reminder}
        highest = max(before)

        # the parcels expire: the reminders may go; bob's mails go out at last: they go
        # too, as do the expiry messages once sent
        staff.expire(station)
        server.mailbox.refuse_to = set()
        for _ in range(3):
            worker.run_once()
        assert DeliveryState.PENDING not in {s for _, s in deliveries(station)}
        clock.advance(days=31)
        worker.prune(KEEP)
        left = events(station)
        assert not {reminder, bob_code, bob_reminder} & set(left)
        assert list(left) == [max(left)]  # only the newest is left
        # a new event never gets an id one that was removed had
        with station.db.write() as session:
            record_event(session, "alert.door_fault", now=clock.now, detail={"text": "z"})
        assert max(events(station)) > max(highest, *left)
        assert {e for e, _ in deliveries(station)} <= set(left)  # none left without its event
    station.db.close()


def test_the_station_prunes_in_its_background_jobs_by_the_setting(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False, outbox_retention_days=2) as live:
        with live.client("courier") as courier:
            parcel_id, compartment = deposit(courier, tracking="TRK-PRUNE")
            live.sim.put(compartment)
            live.sim.close(compartment)
            ok(courier.post(f"{API}/parcels/{parcel_id}/confirm"))
        live.ctx.notifier.run_once()  # nobody to tell: every event is through at once
        station = live.runtime.station
        made = events(station)
        assert len(made) >= 2
        [prune] = [job for _, job in jobs(live.ctx) if job.__name__ == "prune_outbox"]
        live.clock.advance(days=1, hours=23)
        prune()
        assert events(station) == made
        live.clock.advance(hours=2)
        prune()
        assert list(events(station)) == [max(made)]


def test_a_hubs_events_stay_until_the_broker_has_them_and_the_numbers_go_on(
    tmp_path: Path,
) -> None:
    """Events for a fleet hub are pruned like the others once the broker acknowledged them,
    never before, and the newest stays so the next number follows it."""
    from locker.uplink import outgoing
    from locker.uplink.capture import Capture, record_hub_event

    clock = FakeClock()
    station, _locks = open_station(tmp_path / "station.db", clock)
    station.db.capture = Capture("station-1", station.layout)
    with station.db.write() as session:
        for n in range(5):
            record_hub_event(session, "bus", {"n": n}, now=clock.now)
    outgoing.mark_acked(station, 3)  # the broker has 1, 2 and 3; 4 and 5 are still to go
    clock.advance(days=31)
    with station.db.write() as session:
        outbox.prune(session, before=clock.now - KEEP)
    left = [e.seq for e in outgoing.events_after(station, "station-1", 0)]
    assert left == [4, 5]
    outgoing.mark_acked(station, 5)
    with station.db.write() as session:
        outbox.prune(session, before=clock.now - KEEP)
        assert record_hub_event(session, "bus", {"n": 5}, now=clock.now) == 6
    assert [e.seq for e in outgoing.events_after(station, "station-1", 0)] == [5, 6]
