"""`make bench` keeps working: each benchmark runs briefly and fills its rows.

Only that the figures exist and are sane is checked here, never how fast anything was
(the benchmarks print their figures; tests never assert on wall-clock time).
"""

from __future__ import annotations

from bench import code_to_unlock, status_sweep
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


def test_status_sweep_reads_every_lock_and_prints_a_table() -> None:
    rows = status_sweep.measure(19200, runs=3)
    assert len(rows) == 2
    text = table(rows)
    assert text.splitlines()[0].startswith("| measurement |")
    assert all(isinstance(r, Row) and r.ratio.endswith("× wire") for r in rows)
