"""The payments' fixtures: the fake of Stripe on loopback (the edge of the world), the
station's provider pointed at it through the official SDK, and the cashier."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from locker.payments.cashier import Cashier
from locker.payments.stripe_link import StripeLinks
from locker.station import Station
from locker.testkit.scripted_terminal import ScriptedTerminal
from sim.payment_provider import FakeStripe

API_KEY = "sk_test_station"
WEBHOOK_SECRET = "whsec_station"


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe(api_key=API_KEY, webhook_secret=WEBHOOK_SECRET).start()
    yield fake
    fake.stop()


@pytest.fixture
def terminal() -> ScriptedTerminal:
    return ScriptedTerminal()


@pytest.fixture
def cashier(station: Station, fake_stripe: FakeStripe, terminal: ScriptedTerminal) -> Cashier:
    links = StripeLinks(API_KEY, WEBHOOK_SECRET, api_base=fake_stripe.url)
    return Cashier(station, links=links, terminal=terminal)
