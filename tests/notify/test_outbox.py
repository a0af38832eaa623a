"""The outbox under faults, against a real SMTP server on loopback: a code sealed until
its mail went out; the server down, then up; a process killed between sending and
marking sent (one duplicate, with the same Message-ID, and only there); giving up after
days with an alert for staff; and hypothesis over orderings of all of it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlmodel import col, select

from locker.alerts import open_alerts
from locker.codes import group_pin
from locker.notify.outbox import LEASE
from locker.notify.sealing import Sealer
from locker.services.staff import reissue_code
from locker.store.tables import Delivery, OutboxEvent
from locker.types import AlertKind, DeliveryState
from tests.mail_support import SmtpServer, qr_in, smtp_server, text_of
from tests.notify.outbox_station import notifier, open_station, store_for
from tests.support import FakeClock

REPO = Path(__file__).resolve().parents[2]


def deliveries(station: object) -> list[Delivery]:
    with station.db.read() as session:  # type: ignore[attr-defined]
        return list(session.exec(select(Delivery).order_by(col(Delivery.id))).all())


def test_the_code_is_sealed_until_its_mail_went_out(tmp_path: Path) -> None:
    clock = FakeClock()
    station, locks = open_station(tmp_path / "station.db", clock)
    with smtp_server() as server:
        store_for(station, locks, "ada@example.org", "TRK-SEAL")
        with station.db.read() as session:
            event = session.exec(
                select(OutboxEvent).where(OutboxEvent.event == "code.issued")
            ).one()
        assert event.sealed is not None
        code = Sealer(station.hasher).unseal(event.sealed)
        assert code is not None
        assert code.pin not in event.sealed  # not in clear text
        report = notifier(station, server.port).run_once()
        assert report.sent == 1
        mail = server.mailbox.to("ada@example.org")[0]
        assert f"Your PIN: {group_pin(code.pin)}" in text_of(mail)
        assert qr_in(mail) == code.qr_token
        with station.db.read() as session:
            assert session.get(OutboxEvent, event.id).sealed is None  # type: ignore[union-attr]
    station.db.close()


def test_a_dead_mail_server_delays_the_mail_and_loses_nothing(tmp_path: Path) -> None:
    clock = FakeClock()
    station, locks = open_station(tmp_path / "station.db", clock)
    server = SmtpServer()  # not started: connections are refused
    try:
        store_for(station, locks, "bob@example.org", "TRK-DOWN")
        worker = notifier(station, server.port)
        report = worker.run_once()
        assert (report.sent, report.failed) == (0, 1)
        [delivery] = deliveries(station)
        assert delivery.state is DeliveryState.PENDING
        assert "Connection refused" in delivery.last_error
        assert delivery.next_attempt_at == clock.now + timedelta(seconds=30)
        assert worker.run_once().failed == 0  # not due yet: nothing is tried
        clock.advance(seconds=30)
        assert worker.run_once().failed == 1  # still down: the wait doubles
        assert deliveries(station)[0].next_attempt_at == clock.now + timedelta(seconds=60)
        server.start()
        clock.advance(seconds=60)
        assert worker.run_once().sent == 1
        assert len(server.mailbox.to("bob@example.org")) == 1
        clock.advance(hours=2)
        assert worker.run_once().sent == 0  # sent once, never again
        assert len(server.mailbox.messages) == 1
        assert deliveries(station)[0].attempts == 3
    finally:
        server.stop()
        station.db.close()


def test_killed_between_sending_and_marking_sent_sends_one_duplicate(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "station.db"
    station, locks = open_station(path, clock)
    with smtp_server() as server:
        store_for(station, locks, "cy@example.org", "TRK-KILL")
        child = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "tests.notify.crash_worker",
                str(path),
                str(server.port),
                clock.now.isoformat(),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert child.returncode == -9, child.stderr  # SIGKILL, right after the send
        assert len(server.mailbox.messages) == 1
        [delivery] = deliveries(station)
        assert delivery.state is DeliveryState.PENDING  # the mark never happened
        worker = notifier(station, server.port)
        assert worker.run_once().sent == 0  # its claim still runs: no second send yet
        clock.advance(seconds=LEASE.total_seconds())
        assert worker.run_once().sent == 1  # the claim ran out: sent again, once
        mails = server.mailbox.to("cy@example.org")
        assert len(mails) == 2
        assert mails[0]["Message-ID"] == mails[1]["Message-ID"]  # a receiver can drop it
        clock.advance(hours=1)
        assert worker.run_once().sent == 0
        assert len(server.mailbox.messages) == 2
    station.db.close()


def test_after_days_of_failure_staff_are_alerted(tmp_path: Path) -> None:
    clock = FakeClock()
    station, locks = open_station(tmp_path / "station.db", clock)
    with smtp_server() as server:
        server.mailbox.refuse = True  # 451 to everything
        store_for(station, locks, "dee@example.org", "TRK-GIVEUP")
        worker = notifier(station, server.port)
        for _ in range(100):
            worker.run_once()
            clock.advance(hours=1)
        [delivery] = [d for d in deliveries(station) if d.recipient == "dee@example.org"]
        assert delivery.state is DeliveryState.GAVE_UP
        assert "451" in delivery.last_error
        with station.db.read() as session:
            kinds = [a.kind for a in open_alerts(session)]
        assert kinds == [AlertKind.NOTIFICATION_FAILED]
    station.db.close()


class OutboxOrderings(RuleBasedStateMachine):
    """Parcels stored, the server refusing or answering, workers running, crashing right
    after a send, time passing, in any order: every mail arrives, and a mail arrives
    twice only for a delivery whose worker was killed after sending it."""

    server: SmtpServer
    folder: Path

    def __init__(self) -> None:
        super().__init__()
        self.server.mailbox.clear()
        self.clock = FakeClock()
        OutboxOrderings.runs += 1
        self.station, self.locks = open_station(
            self.folder / f"station-{OutboxOrderings.runs}.db", self.clock
        )
        self.stored = 0
        self.crashes: dict[int, int] = {}  # delivery id -> kills right after its send

    runs = 0

    def _mails(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for mail in self.server.mailbox.messages:
            counts[mail["Message-ID"]] = counts.get(mail["Message-ID"], 0) + 1
        return counts

    @precondition(lambda self: self.stored < 6)
    @rule()
    def store(self) -> None:
        self.stored += 1
        store_for(self.station, self.locks, f"r{self.stored}@example.org", f"T{self.stored}")

    @rule(refuse=st.booleans())
    def server_answers(self, refuse: bool) -> None:
        self.server.mailbox.refuse = refuse

    @rule()
    def work(self) -> None:
        notifier(self.station, self.server.port).run_once()

    @rule()
    def work_and_die_after_a_send(self) -> None:
        class Killed(Exception):
            pass

        def die(delivery_id: int) -> None:
            self.crashes[delivery_id] = self.crashes.get(delivery_id, 0) + 1
            raise Killed

        with contextlib.suppress(Killed):
            notifier(self.station, self.server.port, after_send=die).run_once()

    @rule(seconds=st.sampled_from([1, 30, 61, 600, 3600]))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds=seconds)

    @invariant()
    def a_mail_comes_twice_only_after_a_kill(self) -> None:
        mails = self._mails()
        for delivery in deliveries(self.station):
            sent = mails.get(f"<delivery-{delivery.id}@127.0.0.1>", 0)
            assert sent <= 1 + self.crashes.get(delivery.id or 0, 0)
            if delivery.state is DeliveryState.SENT:
                assert sent >= 1

    def teardown(self) -> None:
        try:
            self.server.mailbox.refuse = False
            for _ in range(30):  # the server answers again: everything gets through
                self.clock.advance(hours=1)
                notifier(self.station, self.server.port).run_once()
            mails = self._mails()
            for delivery in deliveries(self.station):
                assert delivery.state is DeliveryState.SENT, delivery
                assert mails.get(f"<delivery-{delivery.id}@127.0.0.1>", 0) >= 1
            assert len(deliveries(self.station)) == self.stored  # one per parcel's code
        finally:
            self.station.db.close()


def test_outbox_orderings(tmp_path: Path) -> None:
    with smtp_server() as server:
        OutboxOrderings.server = server
        OutboxOrderings.folder = tmp_path
        runner = OutboxOrderings.TestCase()
        runner.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
        runner.runTest()


def test_two_workers_at_once_never_send_one_delivery_twice(tmp_path: Path) -> None:
    clock = FakeClock()
    station, locks = open_station(tmp_path / "station.db", clock)
    with smtp_server() as server:
        for n in range(4):
            store_for(station, locks, f"p{n}@example.org", f"TRK-TWO-{n}")
        second = notifier(station, server.port)
        during: list[int] = []

        def meanwhile(_delivery_id: int) -> None:  # while the first is between send and mark
            during.append(second.run_once().sent)

        first = notifier(station, server.port, after_send=meanwhile)
        sent = first.run_once().sent
        assert sent + sum(during) == 4
        assert sum(during) > 0  # the second worker did work meanwhile, on other deliveries
        ids = [m["Message-ID"] for m in server.mailbox.messages]
        assert len(ids) == 4
        assert len(set(ids)) == 4
        assert {d.state for d in deliveries(station)} == {DeliveryState.SENT}
    station.db.close()


def test_a_fault_of_ours_is_recorded_and_retried_not_a_stalled_outbox(tmp_path: Path) -> None:
    clock = FakeClock()
    station, locks = open_station(tmp_path / "station.db", clock)
    with smtp_server() as server:
        store_for(station, locks, "eve@example.org", "TRK-BUG")
        broken = notifier(station, server.port)
        # a setting that breaks the letter (an unknown zone would only fall back to UTC)
        broken.config = replace(broken.config, public_url="http://[")
        report = broken.run_once()
        assert report.failed == 1
        [delivery] = deliveries(station)
        assert "ValueError" in delivery.last_error
        assert delivery.state is DeliveryState.PENDING
        clock.advance(minutes=1)
        assert notifier(station, server.port).run_once().sent == 1  # mended: it goes out
    station.db.close()


def test_a_reprinted_code_replaces_the_one_not_yet_mailed(tmp_path: Path) -> None:
    clock = FakeClock()
    station, locks = open_station(tmp_path / "station.db", clock)
    with smtp_server() as server:
        parcel_id = store_for(station, locks, "fay@example.org", "TRK-REPRINT")
        new = reissue_code(station, actor="staff:test", parcel_id=parcel_id)
        assert new.code is not None
        report = notifier(station, server.port).run_once()
        assert (report.sent, report.skipped) == (1, 1)
        [mail] = server.mailbox.to("fay@example.org")
        assert f"Your PIN: {group_pin(new.code.pin)}" in text_of(mail)  # only the code that works
    station.db.close()


def test_with_no_channel_the_code_is_not_kept_and_idle_rounds_write_nothing(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    station, locks = open_station(tmp_path / "station.db", clock)
    silent = notifier(station, 1)
    silent.config = replace(silent.config, smtp=None)  # no mail server, no webhook
    silent.mailer = None
    store_for(station, locks, "gil@example.org", "TRK-SILENT")
    assert silent.run_once().sent == 0
    with station.db.read() as session:
        events = session.exec(select(OutboxEvent)).all()
    assert {e.event for e in events} >= {"code.issued", "parcel.stored"}
    assert all(e.expanded and e.sealed is None for e in events)
    assert deliveries(station) == []
    # an idle round only reads: a held write lock does not stop it
    with station.db.write():
        assert silent.run_once().sent == 0
    station.db.close()
