"""The payments of parcels, inside the caller's transaction: what is due, the intent to
charge, approval, the money returned, and the alerts when it must go back by hand.

Every change of money is audited (who, what, how much). A parcel has at most one payment
that holds its money (``one_charge_per_parcel``): a second approval becomes a duplicate,
to be refunded at once, never a second charge that counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import Session, and_, col, func, or_, select

from locker.audit import record
from locker.errors import NotFound
from locker.notify.outbox import record_event
from locker.payments.amounts import shown
from locker.payments.records import HOLDS_MONEY, Method, Payment, PayState
from locker.store.tables import Alert, Parcel
from locker.types import AlertKind, ParcelState


def holding(session: Session, parcel_id: int) -> Payment | None:
    """The payment that holds the parcel's money (approved, or owed back by hand)."""
    return session.exec(
        select(Payment).where(Payment.parcel_id == parcel_id, col(Payment.state).in_(HOLDS_MONEY))
    ).first()


def paid(session: Session, parcel: Parcel) -> bool:
    """Nothing due, or paid (by any method, a waiver included)."""
    assert parcel.id is not None
    if parcel.amount_due_cents == 0:
        return True
    payment = holding(session, parcel.id)
    return payment is not None and payment.state is PayState.APPROVED


def paid_at(session: Session, parcel: Parcel) -> str | None:
    """When the parcel's amount was paid (ISO time; None: nothing due, or not paid)."""
    assert parcel.id is not None
    payment = holding(session, parcel.id) if parcel.amount_due_cents else None
    if payment is None or payment.state is not PayState.APPROVED or payment.approved_at is None:
        return None
    return payment.approved_at.isoformat()


def unpaid(session: Session, parcels: Iterable[Parcel]) -> list[Parcel]:
    return [p for p in parcels if not paid(session, p)]


def pending(session: Session, parcel_id: int, method: Method | None = None) -> list[Payment]:
    query = select(Payment).where(Payment.parcel_id == parcel_id, Payment.state == PayState.PENDING)
    if method is not None:
        query = query.where(Payment.method == method)
    return list(session.exec(query.order_by(col(Payment.id))).all())


def latest(session: Session, parcel_id: int, method: Method) -> Payment | None:
    """The parcel's last payment of ``method`` (the kiosk tells why it failed)."""
    query = select(Payment).where(Payment.parcel_id == parcel_id, Payment.method == method)
    return session.exec(query.order_by(col(Payment.id).desc()).limit(1)).first()


def pending_card(session: Session) -> Sequence[Payment]:
    return session.exec(
        select(Payment).where(Payment.state == PayState.PENDING, Payment.method == Method.CARD)
    ).all()


def get(session: Session, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("payment", payment_id)
    return payment


def begin(
    session: Session, parcel: Parcel, method: Method, *, actor: str, now: datetime, reason: str = ""
) -> Payment:
    """The intent to charge (committed by the caller before anyone is asked): the parcel's
    next attempt, with the idempotency key the provider gets."""
    assert parcel.id is not None
    attempts = session.exec(
        select(func.count()).select_from(Payment).where(Payment.parcel_id == parcel.id)
    ).one()
    attempt = int(attempts) + 1
    payment = Payment(
        parcel_id=parcel.id,
        attempt=attempt,
        method=method,
        state=PayState.PENDING,
        amount_cents=parcel.amount_due_cents,
        currency=parcel.currency,
        idempotency_key=f"parcel-{parcel.id}-attempt-{attempt}",
        actor=actor,
        reason=reason,
        created_at=now,
    )
    session.add(payment)
    session.flush()
    _audit(session, payment, "payment.started", actor, now)
    return payment


def approve(
    session: Session,
    payment: Payment,
    *,
    now: datetime,
    actor: str = "system",
    payment_ref: str | None = None,
    receipt_number: str | None = None,
    text: str = "",
) -> bool:
    """The money is taken. False when the parcel was paid already (a race between the link
    and the terminal, say): this one is then a duplicate, for the caller to return."""
    payment.payment_ref = payment_ref or payment.payment_ref
    payment.receipt_number = receipt_number or payment.receipt_number
    payment.outcome_text = text[:200]
    payment.approved_at = now
    parcel = session.get(Parcel, payment.parcel_id)
    assert parcel is not None
    if holding(session, payment.parcel_id) is not None:
        payment.state = PayState.DUPLICATE
        session.add(payment)
        _audit(session, payment, "payment.duplicate", actor, now)
        return False
    payment.state = PayState.APPROVED
    session.add(payment)
    session.flush()
    _audit(session, payment, "payment.approved", actor, now)
    if payment.method is not Method.WAIVED:
        record_event(  # the receipt to the customer; parcel.paid to carriers and the hub
            session,
            "parcel.paid",
            now=now,
            parcel=parcel,
            detail=facts(payment),
            key=f"paid-{payment.id}",
        )
    return True


def fail(
    session: Session, payment: Payment, *, now: datetime, text: str, unknown: bool = False
) -> None:
    payment.state = PayState.UNKNOWN if unknown else PayState.FAILED
    payment.outcome_text = text[:200]
    payment.settled_at = now
    session.add(payment)
    _audit(session, payment, f"payment.{payment.state.value}", "system", now)


def returned(
    session: Session,
    payment: Payment,
    *,
    now: datetime,
    actor: str,
    refund_ref: str | None = None,
    text: str = "",
    reason: str = "",
) -> None:
    """The money went back: a card reversed at the terminal, a link refunded, cash handed
    back at the desk."""
    payment.state = PayState.REVERSED if payment.method is Method.CARD else PayState.REFUNDED
    payment.refund_ref = refund_ref
    payment.outcome_text = text[:200]
    payment.settled_at = now
    if reason:
        payment.reason = reason
    session.add(payment)
    _audit(session, payment, f"payment.{payment.state.value}", actor, now)


def hold_back(session: Session, parcel_id: int, *, now: datetime) -> Payment | None:
    """No door of the paid parcel opened: its link or card payment is to go back (the
    caller, or the next sweep after a crash, returns it). Cash and waivers stay with staff."""
    payment = holding(session, parcel_id)
    if payment is None or payment.state is not PayState.APPROVED:
        return None
    if payment.method not in (Method.LINK, Method.CARD):
        return None
    payment.state = PayState.RETURNING
    payment.outcome_text = "its door did not open: the money goes back"
    session.add(payment)
    _audit(session, payment, "payment.returning", "system", now)
    return payment


def to_give_back(session: Session) -> Sequence[Payment]:
    """Payments whose money must go back: no door opened, paid twice by a race, or paid
    for a parcel that went back to its sender without being collected."""
    went_back = session.exec(
        select(Payment)
        .join(Parcel, col(Parcel.id) == col(Payment.parcel_id))
        .where(
            Payment.state == PayState.APPROVED,
            Parcel.state == ParcelState.RETURNED,
            Payment.method != Method.WAIVED,
        )
    ).all()
    for payment in went_back:
        payment.state = PayState.RETURNING
        payment.outcome_text = "the parcel went back uncollected: the money goes back"
        session.add(payment)
    if went_back:
        session.flush()
    return session.exec(
        select(Payment)
        .where(
            or_(
                col(Payment.state) == PayState.RETURNING,
                and_(col(Payment.state) == PayState.DUPLICATE, col(Payment.settled_at).is_(None)),
            )
        )
        .order_by(col(Payment.id))
    ).all()


def refund_failed(session: Session, payment: Payment, *, now: datetime, text: str) -> None:
    """The money must go back by hand: staff get an alert with all they need."""
    payment.state = PayState.REFUND_FAILED
    payment.outcome_text = text[:200]
    payment.refund_attempts += 1
    session.add(payment)
    _audit(session, payment, "payment.refund_failed", "system", now)
    alert(session, AlertKind.PAYMENT_REFUND, payment, now=now, why=f"refund it by hand ({text})")


def alert(session: Session, kind: AlertKind, payment: Payment, *, now: datetime, why: str) -> None:
    """An alert for one payment (never merged with another's: each is money)."""
    parcel = session.get(Parcel, payment.parcel_id)
    detail = f"{why}: {describe(payment)}"
    if parcel is not None:
        detail += f"; parcel {parcel.id} ({parcel.carrier} {parcel.tracking_number})"
    cid = parcel.compartment_id if parcel is not None else None
    session.add(Alert(kind=kind, compartment_id=cid, detail=detail, raised_at=now))
    record_event(
        session, f"alert.{kind.value}", now=now, compartment_id=cid, detail={"text": detail}
    )
    record(
        session,
        actor="system",
        action=f"alert.{kind.value}",
        now=now,
        parcel_id=payment.parcel_id,
        detail=detail,
    )


def describe(payment: Payment) -> str:
    """Everything staff need to find the payment and refund it by hand."""
    parts = [
        f"payment {payment.id}",
        payment.method.value,
        shown(payment.amount_cents, payment.currency),
        f"taken {payment.approved_at.isoformat(timespec='seconds')}" if payment.approved_at else "",
        f"provider {payment.provider_ref}" if payment.provider_ref else "",
        f"payment {payment.payment_ref}" if payment.payment_ref else "",
        f"receipt {payment.receipt_number}" if payment.receipt_number else "",
    ]
    return ", ".join(p for p in parts if p)


def facts(payment: Payment) -> dict[str, object]:
    """What a receipt and a webhook say of a payment (no card data: there is none)."""
    return {
        "payment_id": payment.id,
        "method": payment.method.value,
        "amount_cents": payment.amount_cents,
        "currency": payment.currency,
        "provider_ref": payment.payment_ref or payment.provider_ref,
        "receipt_number": payment.receipt_number,
        "approved_at": payment.approved_at.isoformat() if payment.approved_at else None,
    }


def _audit(session: Session, payment: Payment, action: str, actor: str, now: datetime) -> None:
    detail = f"{describe(payment)}" + (f"; reason: {payment.reason}" if payment.reason else "")
    record(session, actor=actor, action=action, now=now, parcel_id=payment.parcel_id, detail=detail)
