"""Pay by link through Stripe's official SDK: one Checkout Session per parcel and attempt
(its idempotency key), looked up and refunded through the same SDK. ``api_base`` points it
at another address: the tests' and the demo's fake of Stripe on loopback (sim/)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe

from locker.payments.provider import (
    LinkPayment,
    LinkStatus,
    ProviderUnavailable,
    Refund,
    WebhookForged,
)

WEBHOOK_TOLERANCE_S = 300  # an older signature is a replay
EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.expired",
    }
)


class StripeLinks:
    name = "stripe"

    def __init__(
        self, api_key: str, webhook_secret: str, *, api_base: str = "", timeout_s: float = 10
    ) -> None:
        self._webhook_secret = webhook_secret
        options: dict[str, Any] = {"max_network_retries": 2}
        if api_base:
            options["base_addresses"] = {"api": api_base.rstrip("/")}
        self._client = stripe.StripeClient(
            api_key, http_client=stripe.new_default_http_client(timeout=timeout_s), **options
        )

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
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": amount_cents,
                        "product_data": {"name": description},
                    },
                }
            ],
            "success_url": return_url,
            "cancel_url": return_url,
            "client_reference_id": metadata.get("parcel", ""),
            "metadata": dict(metadata),
            "payment_intent_data": {"metadata": dict(metadata)},
        }
        try:
            session = self._client.v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise ProviderUnavailable(f"Stripe did not create the payment: {exc}") from exc
        return _payment(session)

    def lookup(self, ref: str) -> LinkPayment:
        try:
            return _payment(self._client.v1.checkout.sessions.retrieve(ref))
        except stripe.StripeError as exc:
            raise ProviderUnavailable(f"Stripe did not answer for {ref}: {exc}") from exc

    def close(self, ref: str) -> LinkPayment:
        current = self.lookup(ref)
        if current.status is not LinkStatus.OPEN:
            return current
        try:
            return _payment(self._client.v1.checkout.sessions.expire(ref))
        except stripe.StripeError:
            return self.lookup(ref)  # paid meanwhile (Stripe refuses to expire it then)

    def refund(self, payment_ref: str, *, amount_cents: int, idempotency_key: str) -> Refund:
        try:
            refund = self._client.v1.refunds.create(
                {"payment_intent": payment_ref, "amount": amount_cents},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            return Refund(ok=False, text=str(exc)[:200])
        ok = refund.status in ("succeeded", "pending")
        return Refund(ok=ok, ref=refund.id, text=str(refund.status))

    def webhook_ref(self, payload: bytes, headers: Mapping[str, str]) -> str | None:
        header = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), "")
        try:
            event = stripe.Webhook.construct_event(
                payload, header, self._webhook_secret, tolerance=WEBHOOK_TOLERANCE_S
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise WebhookForged("the webhook's signature does not hold") from exc
        if event.type not in EVENTS:
            return None
        ref = event.to_dict().get("data", {}).get("object", {}).get("id")
        return ref if isinstance(ref, str) else None


def _payment(obj: Any) -> LinkPayment:
    session = obj.to_dict()
    if (
        session.get("payment_status") in ("paid", "no_payment_required")
        and session.get("status") == "complete"
    ):
        status = LinkStatus.PAID
    elif session.get("status") == "expired":
        status = LinkStatus.EXPIRED
    else:
        status = LinkStatus.OPEN
    intent = session.get("payment_intent")
    return LinkPayment(
        ref=str(session["id"]),
        url=session.get("url") or "",
        status=status,
        amount_cents=int(session.get("amount_total") or 0),
        currency=str(session.get("currency") or "").upper(),
        payment_ref=intent if isinstance(intent, str) else None,
    )
