"""Kiosk devices and the limits they change: a guesser on the network fills the station's
hourly cap but cannot lock the paired kiosk, a scanned QR code is never refused by that
cap, and a guesser at the kiosk itself makes the next customer wait a minute at most."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from locker.audit import entries
from locker.errors import CodeInvalid, NotFound, TooManyAttempts
from locker.people import attempts, kiosk_devices
from locker.people.attempts import AttemptPolicy, device_terminal
from locker.services import pickup
from locker.station import Station
from locker.testkit.memory_locks import InMemoryLocks
from tests.locker.service_helpers import store
from tests.support import FakeClock

WRONG = "1111111111"


def _cap(station: Station, per_hour: int) -> None:
    limits = replace(station.policy.attempts, station_failures_per_hour=per_hour)
    station.policy = replace(station.policy, attempts=limits)


def _fill_the_cap(station: Station, per_hour: int) -> None:
    """A guesser on the network, a fresh address for every wrong PIN, until the cap is full."""
    for i in range(per_hour):
        with pytest.raises(CodeInvalid):
            pickup.collect(station, code=WRONG, terminal=f"10.0.0.{i}")
    with pytest.raises(TooManyAttempts) as caught:
        pickup.collect(station, code=WRONG, terminal="10.0.1.1")
    assert caught.value.station_wide


def test_a_full_station_cap_never_refuses_the_paired_kiosk(
    station: Station, locks: InMemoryLocks
) -> None:
    _cap(station, 5)
    stored = store(station, locks)
    kiosk_devices.pair(station, name="entrance", actor="staff:eva")
    _fill_the_cap(station, 5)
    # the same right PIN from the network is refused, and told where it would work
    with pytest.raises(TooManyAttempts) as caught:
        pickup.collect(station, code=stored.code.pin, terminal="10.0.2.2")
    assert caught.value.station_wide
    assert "station's own screen" in caught.value.message
    # at the paired kiosk it opens at once
    kiosk = device_terminal("entrance")
    assert pickup.collect(station, code=stored.code.pin, terminal=kiosk).all_opened


def test_a_full_station_cap_never_refuses_a_qr_token(
    station: Station, locks: InMemoryLocks
) -> None:
    _cap(station, 5)
    stored = store(station, locks)
    _fill_the_cap(station, 5)
    assert pickup.collect(station, code=stored.code.qr_token, terminal="10.0.3.3").all_opened


def test_wrong_codes_at_the_kiosk_do_not_fill_the_networks_cap(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    _cap(station, 5)
    stored = store(station, locks)
    kiosk = device_terminal("entrance")
    for _ in range(20):  # a guesser at the kiosk, waiting out each of its delays
        try:
            pickup.collect(station, code=WRONG, terminal=kiosk)
        except CodeInvalid:
            continue
        except TooManyAttempts as exc:
            refused = exc
        assert not refused.station_wide
        clock.advance(seconds=refused.retry_after)
    assert pickup.collect(station, code=stored.code.pin, terminal="10.0.4.4").all_opened


def test_the_kiosk_waits_a_minute_at_most_and_the_network_an_hour(
    station: Station, locks: InMemoryLocks, clock: FakeClock
) -> None:
    stored = store(station, locks)
    waits = {}
    for terminal in (device_terminal("entrance"), "10.0.5.5"):
        for _ in range(12):  # 3 free, then 30 s doubling
            with pytest.raises(CodeInvalid):
                pickup.collect(station, code=WRONG, terminal=terminal)
            clock.advance(hours=2)
        with pytest.raises(CodeInvalid):
            pickup.collect(station, code=WRONG, terminal=terminal)
        with pytest.raises(TooManyAttempts) as caught:
            pickup.collect(station, code=stored.code.pin, terminal=terminal)
        waits[terminal] = caught.value.retry_after
    assert waits == {device_terminal("entrance"): 60, "10.0.5.5": 3600}


@settings(max_examples=200, deadline=None)
@given(consecutive=st.integers(0, 200), free=st.integers(1, 10), most=st.floats(1, 600))
def test_a_devices_delay_is_the_networks_but_never_longer_than_its_cap(
    consecutive: int, free: int, most: float
) -> None:
    policy = AttemptPolicy(free_failures=free, device_max_delay_s=most)
    device = policy.terminal_delay(consecutive, device=True)
    network = policy.terminal_delay(consecutive)
    assert device == min(network, most)
    assert (device == 0) == (consecutive < free)


@given(st.text(max_size=40))
def test_only_digit_codes_are_guessable(text: str) -> None:
    assert (
        attempts.guessable(text)
        == text.replace(" ", "").replace("-", "").replace("\t", "").isdigit()
    )


def test_pairing_gives_a_token_once_and_pairing_again_replaces_it(station: Station) -> None:
    first = kiosk_devices.pair(station, name="entrance", actor="staff:eva")
    assert kiosk_devices.terminal_for_token(station, first) == "kiosk:entrance"
    second = kiosk_devices.pair(station, name="entrance", actor="staff:eva")
    assert first != second
    assert kiosk_devices.terminal_for_token(station, first) is None
    assert kiosk_devices.terminal_for_token(station, second) == "kiosk:entrance"
    assert kiosk_devices.terminal_for_token(station, "kd_" + "x" * 43) is None
    assert [d.name for d in kiosk_devices.devices(station)] == ["entrance"]
    with station.db.read() as session:  # only the keyed hash is kept
        raw = session.connection().exec_driver_sql("SELECT token_hash FROM kiosk_device")
        kept = [row[0] for row in raw]
    assert len(kept) == 1
    assert second not in kept[0]
    assert second.removeprefix("kd_") not in kept[0]
    kiosk_devices.unpair(station, name="entrance", actor="staff:eva")
    assert kiosk_devices.terminal_for_token(station, second) is None
    with pytest.raises(NotFound):
        kiosk_devices.unpair(station, name="entrance", actor="staff:eva")
    with station.db.read() as session:
        done = [e.action for e in entries(session)]
    assert {"kiosk.paired", "kiosk.repaired", "kiosk.unpaired"} <= set(done)


def test_a_kiosk_name_is_checked(station: Station) -> None:
    for bad in ("", " lead", "x" * 41, "a\x00b", "kiosk\u202e"):
        with pytest.raises(kiosk_devices.BadDeviceName):
            kiosk_devices.pair(station, name=bad, actor="staff:eva")
