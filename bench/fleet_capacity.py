"""The hub's ingest capacity in the fleet bench (:mod:`bench.fleet`): how many events a second
one worker, then two, store when the stations publish faster than they can take.

The workers are paused (SIGSTOP) while the stations publish a burst of events flat out
(QoS 1, every station in turn, the same stations and broker as the rest of the run), so the
broker holds the whole burst for them (the bench's queue is unbounded), as it would after a
morning round that came faster than the hub takes it. Once the broker has acknowledged
every event, the workers are resumed (SIGCONT) and the rate is the events stored over the
time from then to the moment the last one is in the table (polled every 100 ms): the
workers' own pace, with the broker and PostgreSQL on the same machine but not the
publishers, which would otherwise take a share of the same cores. The workers' CPU time
(every worker process), PostgreSQL's (its backends) and the broker's over that time are
shown beside it.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass

from bench.common import Row
from bench.fleet_rig import Fleet, Hub, children_cpu_s, cpu_s
from bench.fleet_stations import WAIT_S


@dataclass
class Capacity:
    stations: int
    workers: int
    sent: int
    stored: int
    seconds: float  # workers resumed to last row in
    workers_cpu_s: float
    postgres_cpu_s: float
    broker_cpu_s: float

    @property
    def per_s(self) -> float:
        return self.stored / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms_per_event(self) -> float:
        """Workers' and PostgreSQL's CPU time for one event stored."""
        return (self.workers_cpu_s + self.postgres_cpu_s) / max(1, self.stored) * 1000


def measure(hub: Hub, fleet: Fleet, workers: int, count: int) -> Capacity:
    """A burst of about ``count`` events with ``workers`` workers running, each taking its
    share of the partitions (a hub of another size is stopped and started again)."""
    if len(hub.workers) != workers:
        hub.stop_worker()
        for index in range(workers):
            hub.start_worker(index, workers)
    postmaster = hub.postmaster()
    before = int(hub.scalar("SELECT count(*) FROM events"))
    for process in hub.workers:
        process.send_signal(signal.SIGSTOP)
    try:
        results = fleet.order("burst", max(1, count // len(fleet.pipes)))
    finally:
        cpu0 = sum(cpu_s(w.pid) for w in hub.workers)
        pg0 = children_cpu_s(postmaster)
        broker0 = cpu_s(hub.broker_pid())
        t0 = time.time()
        for process in hub.workers:
            process.send_signal(signal.SIGCONT)
    sent = sum(int(r["sent"]) for r in results)
    deadline = time.monotonic() + WAIT_S
    stored = 0
    while time.monotonic() < deadline:
        stored = int(hub.scalar("SELECT count(*) FROM events")) - before
        if stored >= sent:
            break
        time.sleep(0.1)
    done = time.time()
    cpu1 = sum(cpu_s(w.pid) for w in hub.workers)
    pg1 = children_cpu_s(postmaster)
    broker1 = cpu_s(hub.broker_pid())
    return Capacity(
        stations=len(hub.names),
        workers=workers,
        sent=sent,
        stored=stored,
        seconds=done - t0,
        workers_cpu_s=cpu1 - cpu0,
        postgres_cpu_s=pg1 - pg0,
        broker_cpu_s=broker1 - broker0,
    )


def rows_of(capacities: list[Capacity], ceiling_per_s: float) -> list[Row]:
    rows: list[Row] = []
    one = next((c for c in capacities if c.workers == 1), None)
    for c in capacities:
        n = f"{c.stations:,}"
        left = f", {c.sent - c.stored:,} not in after {WAIT_S:.0f} s" if c.stored < c.sent else ""
        ratio = f"{c.per_s / ceiling_per_s:.3f}× ceiling"
        if c.workers > 1 and one is not None and one.per_s > 0:
            ratio = (
                f"{c.per_s / one.per_s:.2f}× one worker ({c.per_s / ceiling_per_s:.3f}× ceiling)"
            )
        rows.append(
            Row(
                f"hub ingest capacity, N={n}, {c.workers} worker(s): "
                f"{c.per_s:,.0f} events/s stored",
                f"{c.sent:,} events published flat out (QoS 1) while the workers were paused, "
                f"stored in {c.seconds:.1f} s once resumed"
                f"{left}; workers' CPU {c.workers_cpu_s / c.seconds * 100:.0f} % of a core, "
                f"PostgreSQL {c.postgres_cpu_s / c.seconds * 100:.0f} %, "
                f"the broker {c.broker_cpu_s / c.seconds * 100:.0f} %, "
                f"{c.cpu_ms_per_event:.2f} ms of CPU an event (both)",
                f"broker alone {ceiling_per_s:,.0f} events/s",
                "",
                "",
                ratio,
            )
        )
    return rows
