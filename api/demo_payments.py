"""``locker serve --demo``: pay by link against a fake of Stripe on loopback (sim/), so that a
new user can set an amount on a parcel, see the kiosk ask for it, pay on the fake's page
and collect. Only when no Stripe key is set; no money moves, nothing leaves the machine."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import SecretStr

from locker.runtime.settings import Settings

DEMO_KEY = "sk_test_demo"


@contextmanager
def demo_provider(settings: Settings, *, demo: bool) -> Iterator[tuple[Settings, str]]:
    """The settings to run with, and a line to print (empty: no fake provider)."""
    if not demo or settings.stripe_api_key.get_secret_value():
        yield settings, ""
        return
    from sim.payment_provider import FakeStripe

    secret = "whsec_" + secrets.token_hex(16)
    webhook = f"http://{settings.host}:{settings.port}/api/v1/payments/webhook"
    fake = FakeStripe(api_key=DEMO_KEY, webhook_secret=secret, webhook_url=webhook).start()
    try:
        demo_settings = settings.model_copy(
            update={
                "stripe_api_key": SecretStr(DEMO_KEY),
                "stripe_webhook_secret": SecretStr(secret),
                "stripe_api_base": fake.url,
            }
        )
        yield demo_settings, f"demo payments: a fake of Stripe at {fake.url} (no money moves)"
    finally:
        fake.stop()
