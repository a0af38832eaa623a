"""What the station needs from a pay-by-link provider (Stripe: ``stripe_link``; Mollie
could follow with the same few calls). The provider hosts the payment page; the station
creates a payment, asks how it stands, refunds it, and checks the provider's webhooks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from locker.errors import DomainError


class LinkStatus(StrEnum):
    OPEN = "open"  # waiting for the customer on the hosted page
    PAID = "paid"  # the provider has the money
    EXPIRED = "expired"  # closed without payment: nothing taken


@dataclass(frozen=True)
class LinkPayment:
    """A payment at the provider, as the provider reports it."""

    ref: str  # the provider's id of this payment page (Stripe: a Checkout Session)
    url: str  # the hosted page
    status: LinkStatus
    amount_cents: int
    currency: str
    payment_ref: str | None = None  # the money's own id once paid (Stripe: PaymentIntent)


@dataclass(frozen=True)
class Refund:
    ok: bool
    ref: str | None = None
    text: str = ""


class ProviderUnavailable(DomainError):
    """The provider could not be reached or refused the call."""

    code = "payment_provider_unavailable"
    status = 503


class LinksOff(DomainError):
    """This station has no pay-by-link provider: there is nothing to tell it."""

    code = "payment_links_off"
    status = 404


class WebhookForged(DomainError):
    """A webhook whose signature does not hold (or too old: a replay)."""

    code = "webhook_signature_invalid"
    status = 400


class LinkProvider(Protocol):
    name: str

    def create(
        self,
        *,
        amount_cents: int,
        currency: str,
        description: str,
        idempotency_key: str,
        return_url: str,
        metadata: Mapping[str, str],
    ) -> LinkPayment:
        """A new hosted payment; the same key gives back the same payment."""
        ...

    def lookup(self, ref: str) -> LinkPayment:
        """How the payment stands now, asked of the provider."""
        ...

    def close(self, ref: str) -> LinkPayment:
        """End an open payment so it can no longer be paid; a paid one stays paid."""
        ...

    def refund(self, payment_ref: str, *, amount_cents: int, idempotency_key: str) -> Refund:
        """Give the money of a paid payment back (never raises: a failure is ``ok=False``)."""
        ...

    def webhook_ref(self, payload: bytes, headers: Mapping[str, str]) -> str | None:
        """The payment a verified webhook speaks of (None: an event of no interest);
        raises :class:`WebhookForged` when the signature does not hold."""
        ...
