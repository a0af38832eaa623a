"""A guessing attacker against a full station over real HTTP (bench/attacker.py, bounded).

The station is the real one (driver on a pty against the simulator, SQLite file, uvicorn
on loopback), filled full: 200 compartments on 13 CU16 boards (two buses), each with a
stored parcel and its own live code. The attacker moves the station's clock exactly as
far as each ``Retry-After`` says, so simulated days take seconds. The station-wide cap
is set to 10 wrong codes an hour here (60 by default) to keep the run short: the limits
are the same code whatever the number.
"""

from __future__ import annotations

from pathlib import Path

from bench.attacker import AttackReport, attack
from bench.full_station import FullStation, full_station
from locker.people.attempts import AttemptPolicy

CAP = 10
FREE = 3


def _pulses(target: FullStation) -> dict[int, int]:
    sim = target.runtime.sim
    assert sim is not None
    return {spec.id: sim.pulses(spec.id) for spec in target.runtime.station.layout.compartments}


def _untouched(target: FullStation, report: AttackReport, pulses_before: dict[int, int]) -> None:
    """No guess opened a door, the attacker's hits are exactly his guesses that were live,
    and every refusal was a 429 with Retry-After and the documented body."""
    assert report.hits == len(set(report.guesses) & target.pins) == 0
    assert _pulses(target) == pulses_before
    assert report.unexpected == []
    assert report.bad_refusals == []


def test_a_guesser_gets_the_station_cap_an_hour_and_no_more(tmp_path: Path) -> None:
    with full_station(
        tmp_path, compartments=200, days=5, attempts_station_per_hour=CAP, attempts_free=FREE
    ) as target:
        assert len(target.pins) == 200  # full: one live code per compartment
        before = _pulses(target)

        # Three days at /kiosk/collect (the kiosk screen's form) from a fresh address
        # every three guesses: the per-client delays never bind, the station's cap does,
        # in every clock hour; waiting the Retry-After it was given is always enough.
        kiosk = attack(target, hours=72, endpoint="kiosk", rotate=True, seed=7)
        _untouched(target, kiosk, before)
        assert kiosk.per_clock_hour() == [CAP] * 72  # as fast as allowed, never faster
        assert kiosk.max_sliding_hour == CAP
        assert kiosk.refused == 72  # one 429 an hour (problem+json or the kiosk's fragment)
        assert kiosk.refused_in_a_row == 1
        assert kiosk.addresses * FREE >= kiosk.evaluated  # at most FREE from each address

        # The kiosk screen and the JSON API (/api/v1/collect) count into one window:
        # using both in turn still gets the cap once an hour.
        both = attack(target, hours=12, endpoint="both", rotate=True, seed=8, addresses_from=10**4)
        _untouched(target, both, before)
        assert both.per_clock_hour() == [CAP] * 12
        assert both.by_endpoint["kiosk"] > 0
        assert both.by_endpoint["api"] > 0

        # From one address the per-client delays bind as well: 3 free, then 30 s doubling
        # up to an hour, so a day gives the attacker far fewer than the cap.
        alone = attack(target, hours=24, endpoint="kiosk", rotate=False, seed=9)
        _untouched(target, alone, before)
        policy = AttemptPolicy(free_failures=FREE)
        doubling = sum(
            1 for n in range(FREE, FREE + 40) if policy.terminal_delay(n) < policy.max_delay_s
        )
        assert alone.addresses == 1
        assert FREE < alone.evaluated <= FREE + doubling + 24
        assert max(alone.per_clock_hour()) <= CAP


def test_a_guesser_cannot_lock_honest_customers_out_of_the_paired_kiosk(tmp_path: Path) -> None:
    """Honest customers come at random moments (every 2 h of the clock, one of each kind):
    while a guesser on the network keeps the hourly cap full, the paired kiosk and the QR
    code never make them wait; while a guesser stands at the paired kiosk itself, its
    next customer waits a minute at most, and that guesser gets no more than the kiosk's
    own waits allow (he cannot take a new device as he takes a new address)."""
    with full_station(
        tmp_path, compartments=80, days=3, attempts_station_per_hour=CAP, attempts_free=FREE
    ) as target:
        before = _pulses(target)
        network = attack(target, hours=24, endpoint="both", seed=3, honest_every_h=2)
        assert network.per_clock_hour() == [CAP] * 24  # the cap still holds him
        assert network.honest_waits["paired kiosk, PIN"] == [0] * 12
        assert network.honest_waits["network, QR"] == [0] * 12
        # a right PIN from the network is the one refused while the cap is full
        assert any(network.honest_waits["network, PIN"])
        assert max(network.honest_waits["network, PIN"]) <= 3600

        at_kiosk = attack(target, hours=12, paired=True, seed=4, honest_every_h=1)
        assert at_kiosk.addresses == 1
        waits = at_kiosk.honest_waits["paired kiosk, PIN"]
        assert len(waits) == 12
        assert max(waits) <= 60  # LOCKER_ATTEMPTS_KIOSK_MAX_DELAY_S
        assert any(waits)  # he did hold some of them up
        assert at_kiosk.honest_waits["network, PIN"] == [0] * 12  # not the network's cap
        # one guess a minute after the free ones, plus the free ones each customer's right
        # code gives back (FREE per honest customer at the kiosk)
        assert at_kiosk.evaluated <= 12 * 60 + FREE * (1 + len(waits))
        assert max(at_kiosk.per_clock_hour()) <= 60 + 2 * FREE
        honest = set(target.collected)
        assert at_kiosk.hits == network.hits == 0
        pulses = _pulses(target)
        opened = {cid for cid, n in pulses.items() if n != before[cid]}
        assert len(opened) == len(honest) == 72  # exactly the honest customers' doors
        assert all(pulses[cid] == before[cid] + 1 for cid in opened)
