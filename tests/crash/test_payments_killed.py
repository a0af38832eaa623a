"""Pay, open, confirm, killed at each step: ``locker serve`` pays by link through the real
Stripe SDK against the fake provider in this process, and is killed (SIGKILL) after the
intent to charge, after the approval, after the door's pulse, before the completion is
stored, and after a door that did not open. After the restart the parcel is collected
once, or its money is back with the customer: never both lost, never charged twice.

==========================  ==============================================================
killed                      after restart
==========================  ==============================================================
after_charge_intent         the provider is asked with the same idempotency key: one page;
                            paid, the parcel is collected once
after_approval              the payment stands; the code opens the door, no second charge
after_door_pulse            reconciled as opened (the IR strip): collected, paid once
before_completion_commit    as above (the outcome's transaction was lost with the process)
after_outcome_commit, the   the payment marked to go back is refunded at start: the
door jammed                 parcel still waits, the money is back
==========================  ==============================================================
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from locker.testkit import crashpoints
from sim.payment_provider import FakeStripe
from tests.crash.killing import kill_at
from tests.crash.station_process import wait_for
from tests.crash.world import HTTP_TIMEOUT_S, Waiting, World, crash_world

KEY, SECRET = "sk_test_crash", "whsec_crash"
AMOUNT = 2040


@pytest.fixture
def paying(tmp_path: Path) -> Iterator[tuple[World, FakeStripe]]:
    fake = FakeStripe(api_key=KEY, webhook_secret=SECRET).start()
    env = {
        "LOCKER_STRIPE_API_KEY": KEY,
        "LOCKER_STRIPE_WEBHOOK_SECRET": SECRET,
        "LOCKER_STRIPE_API_BASE": fake.url,
        "LOCKER_PAYMENT_CHECK_EVERY_S": "0.2",
    }
    try:
        with crash_world(tmp_path, extra_env=env) as world:
            _hook(world, fake)
            yield world, fake
            world.station.stop()
    finally:
        fake.stop()


def _hook(world: World, fake: FakeStripe) -> None:
    fake.webhook_url = f"{world.station.base_url}/api/v1/payments/webhook"


def _restart(world: World, fake: FakeStripe, crash: dict[str, str] | None = None) -> None:
    world.station.start(crash)
    _hook(world, fake)


def _deposit_due(world: World) -> Waiting:
    answer = world.courier(
        "/parcels",
        {
            "tracking_number": f"PAY{len(world.waiting) + 1:04d}",
            "recipient_name": "Recipient",
            "size": "M",
            "reserve": True,
            "amount_due": AMOUNT,
        },
    )
    assert answer.status_code == 201, answer.text
    pid, cid = int(answer.json()["id"]), int(answer.json()["compartment_id"])
    world.open_for_deposit(pid, cid)
    return world.fill_and_confirm(pid, cid)


def _pay_url(world: World, parcel: Waiting) -> str:
    answer = world.customer(parcel.pin)
    assert answer.status_code == 402, answer.text
    return str(answer.json()["due"][0]["pay_url"]).replace(
        "http://127.0.0.1:8000", world.station.base_url
    )


def _to_provider(url: str) -> httpx.Response:
    return httpx.get(url + "/go", timeout=HTTP_TIMEOUT_S, follow_redirects=False)


def _payments(world: World) -> list[dict[str, Any]]:
    with sqlite3.connect(world.db_path) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM payment ORDER BY id")]


def _collected_once(world: World, fake: FakeStripe, parcel: Waiting) -> None:
    """The code opens the door (no second payment); taken out; the books agree."""
    answer = world.customer(parcel.pin)
    assert answer.status_code == 200, answer.text
    world.take_out(parcel)
    snap = world.agree()
    assert snap.parcels[parcel.pid]["state"] == "collected"
    held = [p for p in _payments(world) if p["state"] == "approved"]
    assert len(held) == 1
    assert fake.ledger.charged_cents() == AMOUNT
    assert fake.ledger.refunded_cents() == 0
    assert world.sim.pulses(parcel.cid) == 2  # the courier's and the customer's


def test_killed_after_the_intent_to_charge(paying: tuple[World, FakeStripe]) -> None:
    world, fake = paying
    parcel = _deposit_due(world)
    url = _pay_url(world, parcel)
    kill_at(world, crashpoints.AFTER_CHARGE_INTENT, 1)
    _hook(world, fake)
    with pytest.raises(httpx.HTTPError):
        _to_provider(url)
    assert world.station.wait_killed() != 0
    [intent] = _payments(world)
    assert intent["state"] == "pending"
    assert intent["provider_ref"] is None
    _restart(world, fake)
    wait_for("the page made at start", lambda: _payments(world)[0]["provider_ref"] is not None)
    hosted = _to_provider(url)
    assert hosted.status_code == 303
    assert len(fake.ledger.sessions) == 1  # the same idempotency key: the same page
    fake.pay(hosted.headers["location"].rsplit("/", 1)[1])
    _collected_once(world, fake, parcel)


def test_killed_after_the_approval(paying: tuple[World, FakeStripe]) -> None:
    world, fake = paying
    parcel = _deposit_due(world)
    hosted = _to_provider(_pay_url(world, parcel)).headers["location"]
    kill_at(world, crashpoints.AFTER_APPROVAL, 1)
    _hook(world, fake)
    fake.pay(hosted.rsplit("/", 1)[1])  # its webhook kills the station after approving
    assert world.station.wait_killed() != 0
    assert _payments(world)[0]["state"] == "approved"
    _restart(world, fake)
    _collected_once(world, fake, parcel)


@pytest.mark.parametrize(
    "point", [crashpoints.AFTER_DOOR_PULSE, crashpoints.BEFORE_COMPLETION_COMMIT]
)
def test_killed_at_the_door_of_a_paid_parcel(paying: tuple[World, FakeStripe], point: str) -> None:
    world, fake = paying
    parcel = _deposit_due(world)
    hosted = _to_provider(_pay_url(world, parcel)).headers["location"]
    fake.pay(hosted.rsplit("/", 1)[1])
    wait_for("the webhook", lambda: _payments(world)[0]["state"] == "approved")
    kill_at(world, point, 1)
    _hook(world, fake)
    with pytest.raises(httpx.HTTPError):
        world.customer(parcel.pin)
    assert world.station.wait_killed() != 0
    world.settle_doors(parcel.cid, 2)
    world.take_out(parcel)  # the customer took it while the station was down
    _restart(world, fake)
    snap = world.agree()
    assert snap.parcels[parcel.pid]["state"] == "collected"  # reconciled: the IR strip
    assert [p["state"] for p in _payments(world)] == ["approved"]
    assert fake.ledger.charged_cents() == AMOUNT
    assert fake.ledger.refunded_cents() == 0


def test_killed_after_a_door_that_did_not_open_the_money_goes_back(
    paying: tuple[World, FakeStripe],
) -> None:
    world, fake = paying
    parcel = _deposit_due(world)
    hosted = _to_provider(_pay_url(world, parcel)).headers["location"]
    fake.pay(hosted.rsplit("/", 1)[1])
    wait_for("the webhook", lambda: _payments(world)[0]["state"] == "approved")
    world.sim.jam(parcel.cid)
    kill_at(world, crashpoints.AFTER_OUTCOME_COMMIT, 1)
    _hook(world, fake)
    with pytest.raises(httpx.HTTPError):
        world.customer(parcel.pin)
    assert world.station.wait_killed() != 0
    assert _payments(world)[0]["state"] == "returning"
    _restart(world, fake)
    wait_for("the refund", lambda: _payments(world)[0]["state"] == "refunded")
    assert fake.ledger.refunded_cents() == fake.ledger.charged_cents() == AMOUNT
    with sqlite3.connect(world.db_path) as db:
        [(state,)] = db.execute("SELECT state FROM parcel WHERE id = ?", (parcel.pid,))
    assert state == "stored"  # still there, still due: staff see its door at fault
