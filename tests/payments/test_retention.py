"""Retention of payments: the rows hold no card data and no personal data; staff's words on
them are scrubbed with the parcel's personal data, the person's export lists them, and they
are deleted after the books' retention."""

from __future__ import annotations

from datetime import timedelta

from locker.payments import desk
from locker.payments.cashier import Cashier
from locker.payments.records import Method
from locker.payments.retention import drop_old_payments
from locker.services import privacy
from locker.station import Station
from locker.testkit.memory_locks import InMemoryLocks
from tests.payments.helpers import payments, store_due
from tests.support import FakeClock

CARD_LIKE = ("card_number", "pan", "cvc", "expiry", "iban")


def test_no_column_could_hold_card_data() -> None:
    from locker.payments.records import Payment

    columns = set(Payment.model_fields)
    assert not {c for c in columns for bad in CARD_LIKE if bad in c}


def test_staff_words_are_scrubbed_and_old_payments_go(
    station: Station, locks: InMemoryLocks, cashier: Cashier, clock: FakeClock
) -> None:
    stored = store_due(station, locks, 1200, tracking="R1")
    assert stored.code is not None
    reason = "Anna Berg paid at the till, mail r1@example.org"
    desk.settle_at_desk(
        station, None, stored.parcel_id, Method.CASH, actor="staff:eva", reason=reason
    )
    person = privacy.Person(email="r1@example.org")
    exported = privacy.export(station, person, actor="staff:eva")
    assert [p["amount_cents"] for p in exported["payments"]] == [1200]
    cashier.collect(code=stored.code.pin, terminal="kiosk:1")
    clock.advance(days=31)
    report = privacy.erase_old_personal_data(station, keep_for=timedelta(days=30))
    assert stored.parcel_id in report.parcels
    [payment] = payments(station, stored.parcel_id)
    assert "Anna Berg" not in payment.reason
    assert "r1@example.org" not in payment.reason
    assert payment.amount_cents == 1200  # the books keep the money's facts
    assert drop_old_payments(station, keep_for=timedelta(days=3650)) == 0
    clock.advance(days=3650)
    assert drop_old_payments(station, keep_for=timedelta(days=3650)) == 1
    assert payments(station, stored.parcel_id) == []
