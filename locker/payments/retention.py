"""How long the payments are kept: they hold no personal data and no card data (amount,
currency, the provider's ids, the terminal's receipt number, outcome, times), so they stay
as the shop's books for ``keep_for`` (by default ten years, what German law asks of
accounting records) after they ended, then they are deleted. Staff's free text on them is
scrubbed when the parcel's personal data is (:mod:`locker.services.privacy`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import Session, col, delete, or_, select

from locker.payments.records import Payment, PayState
from locker.station import Station

ENDED = (PayState.FAILED, PayState.REVERSED, PayState.REFUNDED, PayState.DUPLICATE)


def payments_of_parcels(session: Session, parcel_ids: Sequence[int | None]) -> list[Payment]:
    return list(
        session.exec(
            select(Payment).where(col(Payment.parcel_id).in_(parcel_ids)).order_by(col(Payment.id))
        ).all()
    )


def drop_old_payments(station: Station, *, keep_for: timedelta) -> int:
    """Delete the payments that ended (returned, failed) or were taken more than
    ``keep_for`` ago; how many. Money still owed back (``refund_failed``) stays."""
    before = station.now() - keep_for
    with station.db.write() as session:
        old = select(Payment.id).where(
            or_(
                col(Payment.state).in_(ENDED) & (col(Payment.settled_at) <= before),
                (col(Payment.state) == PayState.APPROVED) & (col(Payment.approved_at) <= before),
            )
        )
        ids = list(session.exec(old).all())
        if ids:
            session.exec(delete(Payment).where(col(Payment.id).in_(ids)))
        return len(ids)
