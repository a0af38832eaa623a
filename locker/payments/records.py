"""The payments taken for parcels (migration 0015). No card data: only the provider's ids,
the terminal's receipt number, the amount, the currency, the outcome and the times."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from locker.store.row import Row
from locker.store.tables import UTCDateTime


class Method(StrEnum):
    """How the money was (or is being) taken."""

    LINK = "link"  # the provider's hosted page, by the link or the kiosk's QR code
    CARD = "card"  # the card terminal in the kiosk (ZVT)
    CASH = "cash"  # staff took it at the desk
    WAIVED = "waived"  # staff let the customer off: nothing was taken


class PayState(StrEnum):
    """Where one payment stands. ``approved`` and ``refund_failed`` hold the money."""

    PENDING = "pending"  # the intent is stored; the provider or terminal is asked
    APPROVED = "approved"  # the money is taken (or, waived: the parcel counts as paid)
    RETURNING = "returning"  # taken, but no door opened: it goes back (and is retried)
    FAILED = "failed"  # declined, expired, walked away: nothing taken
    UNKNOWN = "unknown"  # the terminal was under way when the station stopped: staff check
    REVERSED = "reversed"  # a card payment cancelled at the terminal
    REFUNDED = "refunded"  # a link payment refunded, or cash handed back by staff
    REFUND_FAILED = "refund_failed"  # the money must go back, by hand: staff were alerted
    DUPLICATE = "duplicate"  # paid twice by a race; refunded at once (see ledger.approve)


HOLDS_MONEY = (PayState.APPROVED, PayState.RETURNING, PayState.REFUND_FAILED)
RETURNED = (PayState.REVERSED, PayState.REFUNDED)


def _state_column(enum: type[StrEnum], length: int, *, index: bool = False) -> Any:
    column_type = sa.Enum(
        enum, values_callable=lambda e: [m.value for m in e], native_enum=False, length=length
    )
    return Field(sa_type=column_type, nullable=False, index=index)


class Payment(Row, table=True):
    """One attempt to take the money for one parcel (one idempotency key each)."""

    __table_args__ = (
        sa.Index(
            "one_charge_per_parcel",
            "parcel_id",
            unique=True,
            sqlite_where=sa.text("state IN ('approved', 'returning', 'refund_failed')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    parcel_id: int = Field(foreign_key="parcel.id", index=True)
    attempt: int  # 1, 2, … per parcel
    method: Method = _state_column(Method, 10)
    state: PayState = _state_column(PayState, 20, index=True)
    amount_cents: int
    currency: str = Field(max_length=3)
    idempotency_key: str = Field(unique=True, max_length=80)
    provider_ref: str | None = None  # the provider's checkout (Stripe: cs_…)
    payment_ref: str | None = None  # the provider's payment (Stripe: pi_…)
    refund_ref: str | None = None  # the provider's refund (Stripe: re_…)
    link_url: str | None = None  # the provider's hosted page for this payment
    receipt_number: str | None = None  # the terminal's (ZVT bitmap 87)
    outcome_text: str = ""  # the terminal's or provider's last words, short
    refund_attempts: int = 0  # failed ones: each retry has an idempotency key of its own
    actor: str  # who asked for it (a customer's terminal, a staff member)
    reason: str = ""  # staff's reason (cash, waiver, refund)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # returned, failed
