"""One carrier's tracking number is one live parcel (migration 0016): announced twice, or
deposited beside its announcement, it is refused or is that parcel; and an announcement
nobody brings in lapses after ``LOCKER_ANNOUNCEMENT_EXPIRY_DAYS``, freeing its number."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from locker.errors import TrackingNumberLive
from locker.runtime.settings import Settings
from locker.services import deposit, pickup, staff
from locker.station import Station
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import ParcelState
from tests.locker.service_helpers import COURIER, actions, parcel, state_of
from tests.support import FakeClock


def test_a_tracking_number_is_one_live_parcel(station: Station, locks: InMemoryLocks) -> None:
    announced = deposit.announce(station, actor=COURIER, parcel=parcel(tracking_number="ONE-1"))
    with pytest.raises(TrackingNumberLive, match="one tracking number is one parcel"):
        deposit.announce(station, actor=COURIER, parcel=parcel(tracking_number="ONE-1"))
    # another carrier's number of the same spelling is another parcel
    other = replace(parcel(tracking_number="ONE-1"), carrier="Other Express")
    assert deposit.announce(station, actor="courier:other", parcel=other) != announced

    # described at the door (a deposit without the id): the announced parcel itself
    held = deposit.reserve(station, actor=COURIER, parcel=parcel(tracking_number="ONE-1"))
    assert held.parcel_id == announced
    assert deposit.deposit(station, actor=COURIER, parcel_id=announced).opened
    locks.put(held.compartment_id)
    locks.close(held.compartment_id)
    stored = deposit.confirm_stored(station, parcel_id=announced)
    with pytest.raises(TrackingNumberLive):  # stored: no second parcel beside it
        deposit.reserve(station, actor=COURIER, parcel=parcel(tracking_number="ONE-1"))

    # collected, the number is free again
    assert stored.code is not None
    assert pickup.collect(station, code=stored.code.pin, terminal="kiosk").all_opened
    again = deposit.announce(station, actor=COURIER, parcel=parcel(tracking_number="ONE-1"))
    assert again != announced


def test_an_announcement_lapses_after_its_days(station: Station, clock: FakeClock) -> None:
    pid = deposit.announce(station, actor=COURIER, parcel=parcel(tracking_number="LATE-1"))
    assert station.policy.announcement_expiry == timedelta(days=7)  # the default
    clock.advance(days=6, hours=23)
    assert staff.expire(station).lapsed_announcements == ()
    assert state_of(station, pid) is ParcelState.ANNOUNCED
    clock.advance(hours=1)
    assert staff.expire(station).lapsed_announcements == (pid,)
    assert state_of(station, pid) is ParcelState.LAPSED
    assert "parcel.lapsed" in actions(station, pid)
    # its number is free again: announced anew, a new parcel
    assert deposit.announce(station, actor=COURIER, parcel=parcel(tracking_number="LATE-1")) != pid


def test_the_days_are_the_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, announcement_expiry_days=2, _env_file=None)  # type: ignore[call-arg]
    assert settings.policy().announcement_expiry == timedelta(days=2)
