"""`make bench` keeps working: each benchmark runs briefly and fills its rows.

Only that the figures exist and are sane is checked here, never how fast anything was
(the benchmarks print their figures; tests never assert on wall-clock time).
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from bench import (
    code_to_unlock,
    cold_groups,
    db_growth,
    db_growth_copy,
    directory_search,
    families,
    fleet,
    fleet_list,
    status_sweep,
    throughput,
    zvt_payment,
)
from bench.common import Row, table
from fleet import accounts
from fleet.engines import Postgres
from tests.fleet.engines import pg_server  # noqa: F401 (a fixture)


def _ms(cell: str) -> float:
    return float(cell.split()[0])


def test_code_to_unlock_fills_its_rows() -> None:
    rows = code_to_unlock.measure(19200, runs=4, pulse_ms=20)
    assert [r.measurement for r in rows] == [
        "code → unlock frame on the wire",
        "code → unlock frame, against HTTP",
        "code → answer 'door open' (board confirmed)",
    ]
    assert all("4 collections, 19200 Bd" in r.conditions for r in rows)
    frame, _, answer = rows
    # the unlock frame is on the wire before the answer that it opened comes back
    assert 0 < _ms(frame.p50) < _ms(answer.p50)
    assert _ms(frame.p50) <= _ms(frame.p99)


def test_code_to_unlock_with_a_hub_configured_stands_beside_the_same_without() -> None:
    (row,) = code_to_unlock.measure_with_hub(19200, runs=4, pulse_ms=20)
    assert row.measurement == "code → unlock frame, hub configured"
    assert "4 collections each, 19200 Bd" in row.conditions
    assert row.reference.startswith("the same without a hub ")
    assert row.ratio.endswith("× without a hub")
    assert 0 < _ms(row.p50) <= _ms(row.p99)


def test_every_family_fills_its_unlock_and_door_read_rows() -> None:
    for family in families.FAMILIES:
        rows = families.measure(family, runs=3, sweeps=3)
        assert [r.measurement for r in rows] == [
            f"code → unlock frame ({family})",
            f"whole-bus door read ({family})",
        ]
        assert all(r.ratio.endswith("× wire") and _ms(r.p50) > 0 for r in rows)
        assert "3 collections" in rows[0].conditions


def test_throughput_cycles_parcels_and_reads_the_memory() -> None:
    rows = throughput.measure([1], seconds=1.0, pulse_ms=20)
    load, memory = rows
    assert load.measurement.startswith("throughput: ")
    assert "1 clients" in load.conditions
    assert " 0 deposits" not in load.conditions  # at least one parcel went through
    assert load.ratio.endswith("× healthz req/s")
    assert memory.ratio.endswith("× start-up")


def test_status_sweep_reads_every_lock_and_prints_a_table() -> None:
    rows = status_sweep.measure(19200, runs=3)
    assert len(rows) == 2
    text = table(rows)
    assert text.splitlines()[0].startswith("| measurement |")
    assert all(isinstance(r, Row) and r.ratio.endswith("× wire") for r in rows)


def test_the_growth_generator_runs_and_pruning_keeps_the_outbox_small(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = db_growth.run_real(tmp_path / "real", days=14, per_day=4)
    assert real.parcels == 56
    assert real.edge.mails > 0
    assert real.edge.posts > 0
    real.station.db.close()
    runs = {}
    for keep in (None, timedelta(days=30)):
        copy = tmp_path / f"{keep}.db"
        shutil.copyfile(real.station.db.path, copy)
        runs[keep] = db_growth_copy.extend(copy, real, days=70, prune_after=keep)
    kept, pruned = runs[None], runs[timedelta(days=30)]
    assert kept.days == pruned.days == 70
    assert kept.rows["parcel"] == pruned.rows["parcel"] == 70 * 4  # every week copied
    assert kept.rows["audit"] == pruned.rows["audit"]
    # about 35 of 70 days of events are left after pruning: the month and a week
    assert 0.3 < pruned.rows["outbox_event"] / kept.rows["outbox_event"] < 0.7
    assert pruned.rows["delivery"] < kept.rows["delivery"]


def test_the_fleet_bench_brings_every_event_to_the_hub_and_measures_the_broker() -> None:
    # 5 stations at 200× the busy-day rate (about 18 events/s) for 3 s: each event goes
    # from its own station user through the real broker and the hub's worker into PostgreSQL.
    result = fleet.run(
        5, multiples=(200,), seconds=3, ceiling_seconds=2, drain=60, burst=600, workers=(1, 2)
    )
    (phase,) = result.phases
    assert phase.offered > 0
    assert phase.censored == 0  # every event is in the hub's table
    assert phase.stored == phase.offered == len(phase.lags)
    assert all(lag > 0 for lag in phase.lags)  # the row comes after the station's commit
    assert result.resends == 0  # no gap: each station's seq arrived complete and in order
    assert phase.worker_cpu_s > 0
    assert 0 < result.ceiling.received <= result.ceiling.sent
    # the hub's capacity: a burst each with one worker, then two, every event stored
    assert [(c.workers, c.stored) for c in result.capacities] == [(1, 600), (2, 600)]
    assert all(c.sent == 600 and c.seconds > 0 and c.workers_cpu_s > 0 for c in result.capacities)
    rows = fleet.rows_of(result)
    assert [r.measurement.split(":")[0] for r in rows] == [
        "broker alone (the ceiling), N=5",
        "hub ingest into PostgreSQL, N=5, 200× busy day",
        "hub ingest capacity, N=5, 1 worker(s)",
        "hub ingest capacity, N=5, 2 worker(s)",
    ]
    assert rows[1].ratio.endswith("× ceiling")
    assert rows[2].ratio.endswith("× ceiling")
    assert "× one worker (" in rows[3].ratio
    assert table(rows).count("\n") == 5


def test_the_directory_search_bench_fills_its_rows() -> None:
    rows = directory_search.measure(500, runs=20, rebuilds=1)
    assert [r.measurement for r in rows] == [
        "courier's search, 500 people",
        "search index rebuilt after a change, 500 people",
    ]
    assert "the person within the first three: 20/20" in rows[0].conditions
    assert all(r.ratio.endswith("× lookup") for r in rows)
    assert _ms(rows[0].p50) <= _ms(rows[0].p99)


def test_the_card_payment_bench_fills_its_rows() -> None:
    rows = zvt_payment.measure(runs=2, bare_runs=5, scale=0.01)
    assert [r.measurement for r in rows] == [
        "card payment at the ZVT simulator, modelled times",
        "card payment at the ZVT simulator, the protocol alone",
    ]
    assert all(r.ratio.endswith("× TCP RTT") for r in rows)
    modelled, protocol = rows
    assert "2 payments" in modelled.conditions
    assert "= 80.00 ms modelled" in modelled.conditions  # (3 + 4 + 1 s) × 0.01
    assert _ms(modelled.p50) <= _ms(modelled.p99)
    assert _ms(protocol.p50) <= _ms(protocol.p99)


def test_the_cold_groups_bench_fills_its_rows() -> None:
    rows = cold_groups.measure(runs=9)
    assert [r.measurement for r in rows] == [
        "cold groups: one read of every thermometer",
        "cold groups: maintenance panel, a day's charts",
    ]
    assert all(_ms(r.p50) > 0 for r in rows)
    assert rows[0].ratio.endswith("× door tick")


def test_the_pay_at_pick_up_bench_fills_its_rows() -> None:
    from bench import pay_at_pickup

    rows = pay_at_pickup.measure(runs=3, card_runs=2, scale=0.01)
    assert [r.measurement.split(",")[0] for r in rows] == [
        "code → 'door open'",
        "code → 'door open'",
        "code → '402 pay first' (nothing opens)",
        "code → 'door open'",
    ]
    assert all(r.ratio.endswith("× nothing due") for r in rows)
    card = rows[-1]
    assert "paid at the kiosk's card terminal (ZVT)" in card.measurement
    assert "2 payments" in card.conditions
    assert "= 0.08 s" in card.conditions  # (3 + 4 + 1 s) × 0.01
    assert _ms(card.p50) <= _ms(card.p99)


def test_the_cold_groups_bench_over_the_modbus_simulator_fills_its_rows() -> None:
    rows = cold_groups.measure_on_modbus(runs=5)
    assert [r.measurement for r in rows] == [
        "loop tick with the fridge's read (modbus-relay)",
        "XY-MD02 read, real driver (modbus-relay)",
    ]
    assert all(_ms(r.p50) > 0 for r in rows)
    assert rows[1].reference == "wire 15.62 ms"  # 15 bytes at 9,600 Bd


def test_the_stations_list_bench_fills_its_rows(
    pg_server: Postgres,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # argon2 at its smallest cost for the bench's operator (the hub's cost is tested elsewhere)
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))
    # 50 stations of the bench's fleet on the shared PostgreSQL, 2 requests each
    timings = fleet_list.run(50, runs=2, server=pg_server)
    assert timings.rows["station_state"] == 50
    assert timings.rows["compartments"] == 50 * 24
    # the list's filter (SQL) agrees with what every station's row says (Python)
    assert timings.attention == timings.attention_rows > 0
    rows = fleet_list.rows_of(timings)
    assert [r.measurement.split(": ", 1)[1] for r in rows] == [
        "list page GET /fleet/",
        "filter 'needs attention'",
        "search + filter",
        "live update, changed (200)",
        "live update, unchanged (304)",
        "bare read SELECT * FROM stations",
    ]
    assert all(r.ratio.endswith("× bare read") and _ms(r.p50) <= _ms(r.p99) for r in rows)
    assert all(len(s) == 2 for s in (timings.page, timings.poll_same, timings.bare))
