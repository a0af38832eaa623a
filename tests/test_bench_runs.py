"""`make bench` keeps working: each benchmark runs briefly and fills its rows.

Only that the figures exist and are sane is checked here, never how fast anything was
(the benchmarks print their figures; tests never assert on wall-clock time).
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from bench import (
    code_to_unlock,
    db_growth,
    db_growth_copy,
    directory_search,
    fleet,
    status_sweep,
    throughput,
)
from bench.common import Row, table


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
