"""An announcement from the hub (or a carrier through it) may carry ``amount_due``: the
shared command arguments take whole cents only, and the station's parcel then costs it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from locker.station import Station, get_parcel
from locker.uplink import commands
from locker.uplink.command_args import AnnounceArgs
from locker.uplink.messages import Command

KEY = b"k" * 32


def _announce(station: Station, **args: object) -> dict[str, object]:
    command = Command(
        id="cmd-pay-0001",
        station="st-1",
        type="announce",
        args={"carrier": "Shop", "tracking_number": "HUB-1", "recipient_name": "Ada", **args},
        issued_at=datetime(2026, 12, 7, tzinfo=UTC),
        by="carrier:Shop",
    ).signed(KEY)
    answer = commands.apply(station, "st-1", KEY, command)
    assert answer.ok, answer
    return dict(answer.result or {})


def test_the_hub_announces_a_parcel_with_an_amount_due(station: Station) -> None:
    result = _announce(station, amount_due=2040, size="M")
    with station.db.read() as session:
        parcel = get_parcel(session, int(result["parcel_id"]))  # type: ignore[call-overload]
    assert parcel.amount_due_cents == 2040
    assert parcel.currency == "EUR"


@pytest.mark.parametrize("bad", [-1, 20.4, "2040", 10**9])
def test_the_shared_arguments_take_whole_cents_only(bad: object) -> None:
    with pytest.raises(ValidationError):
        AnnounceArgs(carrier="Shop", tracking_number="T", recipient_name="A", amount_due=bad)  # type: ignore[arg-type]
    assert AnnounceArgs(carrier="S", tracking_number="T", recipient_name="A").amount_due is None
