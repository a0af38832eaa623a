"""Load on loopback: 50 concurrent clients for 60 s against ``locker serve --sim`` as its
own process (96 compartments on two simulated buses, 40 ms pulses).

Couriers deposit, put, close and confirm; customers collect with the PINs they were given
(pairs with the same PIN at the same moment, and wrong PINs: the attempt limits are raised
for the run, see load_station.ENV); staff list compartments, parcels and the audit log.
Checked: no 5xx and no unexpected answer at any time; no door opened twice (every unlock
the simulator counted belongs to exactly one door operation the station recorded, and no
collected parcel's door opened twice); no parcel lost (each parcel a courier got stored
was collected by exactly one client, or is still stored in its compartment with the
parcel inside; no compartment holds two parcels). The figures are printed, latencies also
as ratios to a baseline of a few clients measured first in the same run.

``LOCKER_LOAD_SECONDS`` and ``LOCKER_LOAD_CLIENTS`` change the run (60 s, 50 clients).
"""

from __future__ import annotations

import logging
import os
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import pytest

from tests.hostile.load_clients import Ledger, run_clients
from tests.hostile.load_report import report
from tests.hostile.load_station import COMPARTMENTS, StationProcess, station_process

SECONDS = float(os.environ.get("LOCKER_LOAD_SECONDS", "60"))
CLIENTS = int(os.environ.get("LOCKER_LOAD_CLIENTS", "50"))
BASELINE_SECONDS = 5.0
BASELINE_CLIENTS = 3


def _answers_were_all_expected(ledger: Ledger) -> None:
    server_errors = [s for s in ledger.samples if s.status >= 500]
    assert not server_errors, server_errors[:10]
    assert not [s for s in ledger.samples if s.status == 0], ledger.unexpected[:10]
    assert not ledger.unexpected, ledger.unexpected[:10]


def _twins_collected_once(ledger: Ledger) -> int:
    by_parcel: dict[int, list[int]] = defaultdict(list)
    for parcel_id, status in ledger.twins:
        by_parcel[parcel_id].append(status)
    for parcel_id, statuses in by_parcel.items():
        assert statuses.count(200) <= 1, (parcel_id, statuses)
        if len(statuses) == 2:
            assert statuses.count(200) == 1, (parcel_id, statuses)
    return sum(1 for s in by_parcel.values() if len(s) == 2)


def _doors_opened_once(station: StationProcess, pulses: dict[int, int], ledger: Ledger) -> int:
    """Every unlock frame the simulator counted was sent for exactly one door operation the
    station recorded (the driver's log names the lock and the pulses of each), and no
    collected parcel's door was opened for it twice. Returns the operations that needed a
    second pulse (the first read-back still saw the hook engaged)."""
    ops = station.rows("SELECT compartment_id, purpose, parcel_ids, outcome FROM door_op")
    assert all(outcome == "opened" for *_, outcome in ops), Counter(o for *_, o in ops)
    unlocks = station.unlocks()
    per_op = Counter(int(str(cid)) for cid, *_ in ops)
    assert Counter(cid for cid, _ in unlocks) == per_op  # one finished unlock per operation
    sent: Counter[int] = Counter()
    for cid, n in unlocks:
        sent[cid] += n
    assert pulses == {cid: sent.get(cid, 0) for cid in pulses}  # and no pulse besides
    collect_doors: Counter[int] = Counter()
    for _cid, purpose, parcel_ids, _outcome in ops:
        if purpose == "collect":
            collect_doors.update(int(p) for p in str(parcel_ids).split(",") if p)
    assert all(n == 1 for n in ledger.collected.values()), ledger.collected.most_common(3)
    assert collect_doors == ledger.collected
    return sum(1 for _, n in unlocks if n > 1)


def _no_parcel_lost(station: StationProcess, items: dict[int, bool], ledger: Ledger) -> int:
    rows = station.rows("SELECT id, state, compartment_id FROM parcel")
    state = {int(str(pid)): (str(s), c) for pid, s, c in rows}
    for parcel_id, compartment_id in ledger.stored.items():
        if parcel_id in ledger.collected:
            assert state[parcel_id][0] == "collected", (parcel_id, state[parcel_id])
        else:
            assert state[parcel_id] == ("stored", compartment_id), (parcel_id, state[parcel_id])
            assert items[compartment_id], f"parcel {parcel_id} is not in {compartment_id}"
    held = Counter(c for s, c in state.values() if s in ("reserved", "stored"))
    assert all(n == 1 for n in held.values()), held.most_common(3)
    assert {pid for pid, (s, _) in state.items() if s == "collected"} == set(ledger.collected)
    full = {cid for cid, inside in items.items() if inside}
    assert full == {c for s, c in state.values() if s == "stored"}
    return len(held)


def test_fifty_clients_for_a_minute_lose_no_parcel_and_open_no_door_twice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # tests/conftest.py captures every log record at DEBUG; httpx's per-request lines
    # would cost the clients more than their requests.
    caplog.set_level(logging.WARNING, logger="httpx")
    caplog.set_level(logging.WARNING, logger="httpcore")
    with station_process(tmp_path) as station:
        baseline = run_clients(
            station.base_url,
            station.couriers,
            station.staff,
            clients=BASELINE_CLIENTS,
            seconds=BASELINE_SECONDS,
        )
        loaded = run_clients(
            station.base_url, station.couriers, station.staff, clients=CLIENTS, seconds=SECONDS
        )
        doors = httpx.get(
            f"{station.base_url}/api/v1/sim/doors",
            headers={"Authorization": f"Bearer {station.staff}"},
            timeout=60,
        ).json()
        station.stop()
    print()
    print(report(f"baseline, {BASELINE_CLIENTS} clients", baseline, BASELINE_SECONDS))
    print(report(f"load, {CLIENTS} clients", loaded, SECONDS, baseline))

    assert len(doors) == COMPARTMENTS
    pulses = {d["compartment_id"]: d["pulses"] for d in doors}
    items = {d["compartment_id"]: d["item"] for d in doors}
    both = Ledger()
    for ledger in (baseline, loaded):
        _answers_were_all_expected(ledger)
        both.stored.update(ledger.stored)
        both.collected.update(ledger.collected)
        both.twins.extend(ledger.twins)
    pairs = _twins_collected_once(both)
    repulsed = _doors_opened_once(station, pulses, both)
    still_stored = _no_parcel_lost(station, items, both)
    print(
        f"  {len(both.stored)} parcels stored, {len(both.collected)} collected once each,"
        f" {still_stored} still in their compartments; {pairs} PINs sent by two clients at"
        f" once, each opened one door; {sum(pulses.values())} unlock pulses, each sent for one"
        f" door operation ({repulsed} operations needed a second pulse)"
    )
    assert loaded.deposits > 0
    assert loaded.collections > 0
    assert pairs > 0
