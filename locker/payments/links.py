"""Pay by link: one hosted payment per parcel and attempt, learnt of by the provider's signed
webhook *and* by asking the provider (when the code is typed, and a regular sweep), so a
lost webhook never leaves a paid customer at the door. A webhook only says "look": the
payment counts only as the provider reports it when asked."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from sqlmodel import col, select

from locker.errors import InvalidTransition
from locker.payments import ledger
from locker.payments.due import OWED_BACK, NothingToPay, PaymentBusy
from locker.payments.provider import LinkPayment, LinkProvider, LinkStatus, ProviderUnavailable
from locker.payments.records import Method, Payment, PayState
from locker.station import Station, get_parcel
from locker.testkit import crashpoints
from locker.types import AlertKind, ParcelState

_LOGGER = logging.getLogger(__name__)
PAYABLE = (ParcelState.ANNOUNCED, ParcelState.RESERVED, ParcelState.STORED, ParcelState.EXPIRED)


def link_for(
    station: Station, provider: LinkProvider, parcel_id: int, *, actor: str, return_url: str
) -> str:
    """The provider's page to pay the parcel: the open one, else a new one (intent first,
    then the provider with the attempt's idempotency key, then its id stored)."""
    with station.db.write() as session:
        parcel = get_parcel(session, parcel_id)
        if ledger.paid(session, parcel):
            raise NothingToPay(f"parcel {parcel_id} has nothing left to pay")
        if parcel.state not in PAYABLE:
            raise InvalidTransition(f"parcel {parcel_id} is {parcel.state}: it cannot be paid")
        if ledger.holding(session, parcel_id) is not None:  # owed back: staff first
            raise PaymentBusy(OWED_BACK)
        open_ = ledger.pending(session, parcel_id, Method.LINK)
        payment = open_[-1] if open_ else None
    if payment is not None and payment.provider_ref:
        state = settle(station, provider, payment.id or 0, provider.lookup(payment.provider_ref))
        if state is PayState.APPROVED:
            raise NothingToPay(f"parcel {parcel_id} is paid")
        if state is PayState.PENDING and payment.link_url:
            return payment.link_url
        payment = None  # expired: a new attempt
    if payment is None:
        with station.db.write() as session:
            payment = ledger.begin(
                session, get_parcel(session, parcel_id), Method.LINK, actor=actor, now=station.now()
            )
        crashpoints.reached(crashpoints.AFTER_CHARGE_INTENT)
    return _created(station, provider, payment, return_url)


def _created(station: Station, provider: LinkProvider, payment: Payment, return_url: str) -> str:
    created = provider.create(
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        description=f"Parcel {payment.parcel_id}",
        idempotency_key=payment.idempotency_key,
        return_url=return_url,
        metadata={"parcel": str(payment.parcel_id), "payment": str(payment.id)},
    )
    with station.db.write() as session:
        row = ledger.get(session, payment.id or 0)
        row.provider_ref = created.ref
        row.link_url = created.url
        session.add(row)
    return created.url


def settle(
    station: Station, provider: LinkProvider, payment_id: int, link: LinkPayment
) -> PayState:
    """What the provider reported, applied once: paid (if the amount is the one asked) is
    approved, expired is failed; an approval of a parcel paid otherwise meanwhile is a
    duplicate, refunded at once."""
    duplicate = approved_now = False
    with station.db.write() as session:
        payment = ledger.get(session, payment_id)
        if payment.state is not PayState.PENDING or link.ref != payment.provider_ref:
            return payment.state
        now = station.now()
        if link.status is LinkStatus.PAID:
            if (link.amount_cents, link.currency) != (payment.amount_cents, payment.currency):
                ledger.fail(session, payment, now=now, text="paid amount differs: not counted")
                ledger.alert(
                    session,
                    AlertKind.PAYMENT_REFUND,
                    payment,
                    now=now,
                    why=f"the provider reports {link.amount_cents} {link.currency}; check it",
                )
                return payment.state
            ok = ledger.approve(
                session, payment, now=now, payment_ref=link.payment_ref, text="paid"
            )
            duplicate = not ok
            approved_now = ok
        elif link.status is LinkStatus.EXPIRED:
            ledger.fail(session, payment, now=now, text="the payment page expired")
        state = payment.state
    if approved_now:
        crashpoints.reached(crashpoints.AFTER_APPROVAL)
    if duplicate:
        from locker.payments.giving_back import give_back_link

        give_back_link(station, provider, payment_id, actor="system")
    return state


def check_parcel(station: Station, provider: LinkProvider, parcel_id: int) -> bool:
    """Ask the provider about the parcel's open payments (the poll when the code is typed);
    True when the parcel is paid now."""
    with station.db.read() as session:
        open_ = ledger.pending(session, parcel_id, Method.LINK)
    for payment in open_:
        if payment.provider_ref:
            try:
                settle(station, provider, payment.id or 0, provider.lookup(payment.provider_ref))
            except ProviderUnavailable:
                _LOGGER.warning("the provider did not answer for parcel %s", parcel_id)
    with station.db.read() as session:
        return ledger.paid(session, get_parcel(session, parcel_id))


def webhook(
    station: Station, provider: LinkProvider, payload: bytes, headers: Mapping[str, str]
) -> str:
    """A provider's webhook: verified, then the payment it names is looked up at the
    provider before anything counts. A replay or a forgery changes nothing."""
    ref = provider.webhook_ref(payload, headers)
    if ref is None:
        return "ignored"
    with station.db.read() as session:
        payment = session.exec(select(Payment).where(Payment.provider_ref == ref)).first()
    if payment is None or payment.id is None:
        return "unknown"
    return settle(station, provider, payment.id, provider.lookup(ref)).value


def sweep(station: Station, provider: LinkProvider, *, return_url: Callable[[int], str]) -> int:
    """The background check: every open link payment is asked about (a lost webhook), and
    an intent a crash left without its page gets it (same idempotency key: same page)."""
    with station.db.read() as session:
        open_ = list(
            session.exec(
                select(Payment)
                .where(Payment.state == PayState.PENDING, Payment.method == Method.LINK)
                .order_by(col(Payment.id))
            ).all()
        )
    changed = 0
    for payment in open_:
        try:
            if payment.provider_ref is None:
                _created(station, provider, payment, return_url(payment.parcel_id))
                continue
            state = settle(
                station, provider, payment.id or 0, provider.lookup(payment.provider_ref)
            )
            changed += state is not PayState.PENDING
        except ProviderUnavailable as exc:
            _LOGGER.warning("payment %s: %s", payment.id, exc)
            break  # the provider is away: the next sweep tries again
    return changed


def close_open(station: Station, provider: LinkProvider, parcel_id: int) -> bool:
    """End the parcel's open pages (before the card terminal takes the money, or when staff
    settle it otherwise); True when one of them turned out paid meanwhile."""
    with station.db.read() as session:
        open_ = ledger.pending(session, parcel_id, Method.LINK)
    was_paid = False
    for payment in open_:
        if payment.provider_ref is None:
            with station.db.write() as session:
                row = ledger.get(session, payment.id or 0)
                if row.state is PayState.PENDING:
                    ledger.fail(session, row, now=station.now(), text="closed before its page")
            continue
        state = settle(station, provider, payment.id or 0, provider.close(payment.provider_ref))
        was_paid = was_paid or state is PayState.APPROVED
    return was_paid
