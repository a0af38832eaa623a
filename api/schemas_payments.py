"""The payments' request and answer bodies (issue 28): amounts in integer cents."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, StrictFloat, StrictInt, StrictStr

from api.deferred import Model
from api.schemas import RequestBody
from locker.payments.records import Method, PayState

# Any JSON number or text is taken in, so that a wrong amount gets its own clear problem
# (``amount_invalid``, from locker.payments.amounts) rather than a generic one.
AmountIn = StrictInt | StrictFloat | StrictStr


class AmountDueIn(RequestBody):
    amount_due: AmountIn = Field(description="integer cents, e.g. 2040 for 20.40; 0: nothing due")
    reason: str = Field(min_length=1, max_length=500)


class PaymentOut(Model):
    """One payment: no card data, none is kept."""

    id: int
    parcel_id: int
    attempt: int
    method: Method
    state: PayState
    amount_cents: int
    currency: str
    provider_ref: str | None
    payment_ref: str | None
    refund_ref: str | None
    receipt_number: str | None
    outcome_text: str
    actor: str
    reason: str
    created_at: datetime
    approved_at: datetime | None
    settled_at: datetime | None


class UnpaidOut(Model):
    parcel_id: int
    state: str
    carrier: str
    tracking_number: str
    compartment_id: int | None
    amount_cents: int
    currency: str
    age_hours: float


class TotalsOut(Model):
    day: str
    currency: str
    taken_cents: dict[str, int] = Field(description="by way of payment: link, card, cash")
    returned_cents: dict[str, int]
    count: dict[str, int]


class EndOfDayOut(Model):
    ok: bool
    total_cents: int
    count: int
    text: str


class DueOut(Model):
    parcel_id: int
    amount_due: int
    currency: str
    amount_text: str
    pay_url: str


class WebhookOut(Model):
    result: StrictStr
