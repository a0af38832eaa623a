"""Staff and money: the amount due set or changed, paid in cash at the desk, waived, refunded
or reversed; the unpaid parcels with their age; the day's totals by way of payment; the
terminal's end-of-day. Every change of money is audited: who, what, how much, why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from locker.audit import record
from locker.errors import InvalidTransition, ReasonRequired
from locker.payments import amounts, ledger
from locker.payments.due import OWED_BACK, NothingToPay
from locker.payments.links import close_open
from locker.payments.provider import LinkProvider
from locker.payments.records import RETURNED, Method, Payment, PayState
from locker.payments.terminal import CardTerminal, DayTotals
from locker.station import Station, get_parcel
from locker.store.tables import Parcel
from locker.types import ParcelState

WAITING = (ParcelState.ANNOUNCED, ParcelState.RESERVED, ParcelState.STORED, ParcelState.EXPIRED)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ReasonRequired("say why (it is kept with the money's record)")
    return reason[:500]


def set_amount(
    station: Station,
    links: LinkProvider | None,
    parcel_id: int,
    amount: object,
    *,
    actor: str,
    reason: str,
    limit: int = amounts.MAX_CENTS,
) -> int:
    """Staff change what a parcel costs; not once it is paid (refund it first)."""
    cents = amounts.cents(amount, limit=limit)
    why = _reason(reason)
    if links is not None and close_open(station, links, parcel_id):
        raise InvalidTransition(f"parcel {parcel_id} was paid just now: refund it first")
    with station.db.write() as session:
        parcel = get_parcel(session, parcel_id)
        if parcel.state not in WAITING:
            raise InvalidTransition(f"parcel {parcel_id} is {parcel.state}: its amount is final")
        if ledger.holding(session, parcel_id) is not None:
            raise InvalidTransition(f"parcel {parcel_id} is paid: refund it before changing it")
        for payment in ledger.pending(session, parcel_id, Method.LINK):
            ledger.fail(session, payment, now=station.now(), text="the amount was changed")
        before = parcel.amount_due_cents
        parcel.amount_due_cents = cents
        session.add(parcel)
        record(
            session,
            actor=actor,
            action="parcel.amount_changed",
            now=station.now(),
            parcel_id=parcel_id,
            detail=f"{amounts.shown(before, parcel.currency)} -> "
            f"{amounts.shown(cents, parcel.currency)}; reason: {why}",
        )
    return cents


def settle_at_desk(
    station: Station,
    links: LinkProvider | None,
    parcel_id: int,
    method: Method,
    *,
    actor: str,
    reason: str,
) -> int:
    """Cash taken at the desk, or the amount waived; the payment's id."""
    assert method in (Method.CASH, Method.WAIVED)
    why = _reason(reason)
    if links is not None and close_open(station, links, parcel_id):
        raise NothingToPay(f"parcel {parcel_id} was paid by its link just now")
    with station.db.write() as session:
        parcel = get_parcel(session, parcel_id)
        if ledger.paid(session, parcel):
            raise NothingToPay(f"parcel {parcel_id} has nothing left to pay")
        if parcel.state not in WAITING:
            raise InvalidTransition(f"parcel {parcel_id} is {parcel.state}")
        if ledger.pending(session, parcel_id, Method.CARD):
            raise InvalidTransition("a card payment is under way at the kiosk")
        if ledger.holding(session, parcel_id) is not None:
            raise InvalidTransition(OWED_BACK)
        now = station.now()
        payment = ledger.begin(session, parcel, method, actor=actor, now=now, reason=why)
        ledger.approve(session, payment, now=now, actor=actor, text=method.value)
        assert payment.id is not None
        return payment.id


@dataclass(frozen=True)
class Unpaid:
    parcel_id: int
    state: ParcelState
    carrier: str
    tracking_number: str
    compartment_id: int | None
    amount_cents: int
    currency: str
    age: timedelta  # since it was stored (or announced)


def unpaid(station: Station) -> list[Unpaid]:
    now = station.now()
    with station.db.read() as session:
        parcels = session.exec(
            select(Parcel)
            .where(col(Parcel.state).in_(WAITING), col(Parcel.amount_due_cents) > 0)
            .order_by(col(Parcel.id))
        ).all()
        return [
            Unpaid(
                p.id or 0,
                p.state,
                p.carrier,
                p.tracking_number,
                p.compartment_id,
                p.amount_due_cents,
                p.currency,
                now - (p.stored_at or p.created_at),
            )
            for p in parcels
            if not ledger.paid(session, p)
        ]


@dataclass(frozen=True)
class Totals:
    day: str
    taken: dict[str, int]  # method -> cents taken that day (refunded ones included)
    returned: dict[str, int]  # method -> cents given back that day
    count: dict[str, int]


def day_totals(station: Station, timezone: str, day: datetime | None = None) -> Totals:
    """The day's money by way of payment, in the station's time zone."""
    zone = ZoneInfo(timezone)
    local = (day or station.now()).astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    taken: dict[str, int] = {}
    back: dict[str, int] = {}
    count: dict[str, int] = {}
    with station.db.read() as session:
        rows = session.exec(
            select(Payment).where(
                col(Payment.approved_at).is_not(None), Payment.method != Method.WAIVED
            )
        ).all()
        for p in rows:
            assert p.approved_at is not None
            if start <= p.approved_at < end and p.state is not PayState.DUPLICATE:
                taken[p.method.value] = taken.get(p.method.value, 0) + p.amount_cents
                count[p.method.value] = count.get(p.method.value, 0) + 1
            if p.state in RETURNED and p.settled_at and start <= p.settled_at < end:
                back[p.method.value] = back.get(p.method.value, 0) + p.amount_cents
    return Totals(start.date().isoformat(), taken, back, count)


def end_of_day(station: Station, terminal: CardTerminal | None, *, actor: str) -> DayTotals:
    """The terminal's end-of-day (06 50), audited with what it reported."""
    if terminal is None:
        raise InvalidTransition("this station has no card terminal")
    totals = terminal.end_of_day()
    with station.db.write() as session:
        record(
            session,
            actor=actor,
            action="terminal.end_of_day",
            now=station.now(),
            detail=f"{'ok' if totals.ok else 'failed'}: {totals.count} payments, "
            f"{amounts.shown(totals.total_cents, 'EUR')}; {totals.text}",
        )
    return totals


def payments_of(station: Station, parcel_id: int) -> list[Payment]:
    with station.db.read() as session:
        get_parcel(session, parcel_id)
        return list(
            session.exec(
                select(Payment).where(Payment.parcel_id == parcel_id).order_by(col(Payment.id))
            ).all()
        )
