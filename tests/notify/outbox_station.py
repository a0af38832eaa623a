"""A station on the in-memory doors and a real SQLite file, with a notifier that mails a
real SMTP server: for the outbox tests, in this process or in a child one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from locker.layout import demo_layout
from locker.notify.config import NotifyConfig, SmtpConfig
from locker.notify.notifier import Notifier
from locker.notify.senders import SmtpMailer, WebhookPoster
from locker.services import deposit, intake
from locker.station import Station
from locker.store.db import Database
from locker.testkit.memory_locks import InMemoryLocks
from tests.support import FakeClock, make_station


def open_station(path: Path, clock: FakeClock) -> tuple[Station, InMemoryLocks]:
    layout = demo_layout()
    locks = InMemoryLocks([c.id for c in layout.compartments])
    db = Database(path)
    db.upgrade()
    return make_station(db, layout, locks, clock), locks


def notifier(
    station: Station, smtp_port: int, *, after_send: Callable[[int], None] | None = None
) -> Notifier:
    config = NotifyConfig(
        station_name="Outbox station",
        smtp=SmtpConfig(host="127.0.0.1", port=smtp_port, timeout_s=5),
    )
    return Notifier(
        station,
        config,
        SmtpMailer(config.smtp) if config.smtp else None,
        WebhookPoster(),
        after_send=after_send,
    )


def store_for(station: Station, locks: InMemoryLocks, email: str, tracking: str) -> int:
    """A parcel deposited and stored for ``email`` (its code goes out by mail)."""
    held = deposit.reserve(
        station,
        actor="courier:test",
        parcel=intake.ParcelInput(
            carrier="Parcel Co",
            tracking_number=tracking,
            recipient_name="R",
            size=None,
            dimensions_mm=(100, 50, 100),
            recipient_email=email,
        ),
    )
    assert deposit.deposit(station, actor="courier:test", parcel_id=held.parcel_id).opened
    locks.put(held.compartment_id)
    locks.close(held.compartment_id)
    deposit.confirm_stored(station, parcel_id=held.parcel_id, actor="courier:test")
    return held.parcel_id
