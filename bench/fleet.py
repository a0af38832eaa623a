"""The fleet hub under load: N simulated stations publish events over MQTT 5 to a real
Mosquitto, one hub worker (``python -m fleet.cli worker``, its own process) stores them in
a real PostgreSQL.

Run: ``.venv/bin/python -m bench.fleet [--stations 100,1000,10000] [--seconds 60]``.

- **Stations** are lightweight: no serial line, no SQLite, only an MQTT 5 client each
  (paho) with its own broker user ``st-<name>`` (the hub's generated password file and
  ACL: a station may write only its own topics), its retained birth and will, and its
  events (``lps/v2/<partition>/<name>/evt``, QoS 1, ``seq`` 1, 2, 3, … in order). They run in a few
  processes, each driving its share of the clients from one ``epoll`` loop (paho's
  ``loop_read`` / ``loop_write`` / ``loop_misc``, no thread per client).
- **Rate**: the InPost busy day, 310 parcels a machine a day, 5 events each (announced,
  reserved, stored, collected, capacity): 1,550 events a station a day, spread evenly over
  24 h, as Poisson arrivals (1×: one event every 55.7 s per station). The time is not
  compressed at 1×: each configuration runs a window of ``--seconds`` of that day in real
  time. 100× sends the same events a hundred times as often (100 minutes of the day in a
  60 s window), the hub's headroom.
- **Lag**: from the event's ``at`` (the station's commit time: the wall clock when it is
  published) to the hub's ``received_at`` (stamped in the ingest transaction just before
  it commits), read from the ``events`` table. After the window the hub gets ``--drain``
  seconds to catch up; an event still not in by then counts with its age at that moment,
  and its percentile is shown as ``≥`` (a lower bound: the hub is behind).
- **Ingest rate**: rows stored during the window per second, beside the rate the stations
  offered and beside the broker's ceiling.
- **Hub CPU**: the worker process's CPU time (``/proc/<pid>/stat``) during the window, in
  % of one core per 1,000 stations; PostgreSQL's (the postmaster's children) beside it.
- **Ceiling** (the baseline, same run, same N connected): the same stations publish QoS 1
  as fast as they can to one plain subscriber (``mosquitto_sub``, the broker's own C client:
  QoS 1, the hub's user, no database), and what it receives per second is counted.

Bench-only settings, beside the hub's generated broker configuration: the hub's queue in
the broker is unbounded (``max_queued_messages 0``: at 100× the hub falls behind, and the
default of 10,000 would drop events and measure resends instead of ingest), the broker logs
errors and warnings only, and the worker's session expires when it disconnects (so the
ceiling phase after it is not queued for it). Every station gets its own password and
hash (``fleet.engines.FleetBroker``: ``$7$`` with 101 iterations, 10,000 of them in
0.65 s here), and the registry is filled in one transaction.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import fleet_capacity
from bench.common import Row, p50, p99, table
from bench.fleet_capacity import Capacity
from bench.fleet_rig import Fleet, Hub, children_cpu_s, cpu_s, wait_for
from bench.fleet_stations import (
    DAY_S,
    EVENTS_PER_DAY,
    STATIONS_PER_PROCESS,
    WAIT_S,
    Subscriber,
    raise_fd_limit,
)

PER_STATION_1X = EVENTS_PER_DAY / DAY_S  # events/s of one station at 1×


# --- the simulated stations (in their own processes) --------------------------------------


# --- the measurement ----------------------------------------------------------------------


@dataclass
class Phase:
    stations: int
    multiple: float  # × the busy-day rate
    seconds: float
    target_per_s: float  # what the stations are to publish at that rate
    offered: int  # events the stations published
    stored: int  # of them, in the hub's table by the end of the drain
    in_window: int  # of them, stored during the window
    lags: list[float]  # s, one per offered event (censored ones: their age at the end)
    censored: int  # events not stored by the end of the drain
    worker_cpu_s: float
    postgres_cpu_s: float

    @property
    def offered_per_s(self) -> float:
        return self.offered / self.seconds

    @property
    def ingest_per_s(self) -> float:
        return self.in_window / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        """The worker's share of one core per 1,000 stations."""
        return self.worker_cpu_s / self.seconds * 1000 / self.stations


@dataclass
class Ceiling:
    stations: int
    seconds: float
    sent: int
    received: int

    @property
    def per_s(self) -> float:
        return self.received / self.seconds


@dataclass
class FleetRun:
    stations: int
    processes: int
    setup_s: float
    ceiling: Ceiling
    phases: list[Phase] = field(default_factory=list)
    resends: int = 0  # resend commands the hub issued (gaps it saw)
    capacities: list[Capacity] = field(default_factory=list)  # one worker, two, …


def _phase(hub: Hub, fleet: Fleet, multiple: float, seconds: float, drain: float) -> Phase:
    assert hub.worker is not None
    worker, postmaster = hub.worker.pid, hub.postmaster()
    stored_before = int(hub.scalar("SELECT count(*) FROM events"))
    cpu0, pg0 = cpu_s(worker), children_cpu_s(postmaster)
    t0 = time.time()
    results = fleet.order("poisson", PER_STATION_1X * multiple, seconds)
    t1 = time.time()
    cpu1, pg1 = cpu_s(worker), children_cpu_s(postmaster)
    records = [r for result in results for r in result["records"]]
    window = t1 - t0
    target = stored_before + len(records)
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline and int(hub.scalar("SELECT count(*) FROM events")) < target:
        time.sleep(0.2)
    end = time.time()
    stored = {
        (station, int(seq)): float(lag)
        for station, seq, lag in hub.rows(
            "SELECT station, seq, extract(epoch FROM received_at - at) FROM events WHERE at >= :t0",
            t0=datetime.fromtimestamp(t0 - 1, UTC),
        )
    }
    in_window = int(
        hub.scalar(
            "SELECT count(*) FROM events WHERE received_at >= :t0 AND received_at <= :t1",
            t0=datetime.fromtimestamp(t0, UTC),
            t1=datetime.fromtimestamp(t1, UTC),
        )
    )
    lags: list[float] = []
    censored = 0
    for station, seq, at in records:
        lag = stored.get((station, seq))
        if lag is None:
            censored += 1
            lag = end - at
        lags.append(lag)
    return Phase(
        stations=len(hub.names),
        multiple=multiple,
        seconds=window,
        target_per_s=PER_STATION_1X * multiple * len(hub.names),
        offered=len(records),
        stored=len(records) - censored,
        in_window=in_window,
        lags=lags,
        censored=censored,
        worker_cpu_s=cpu1 - cpu0,
        postgres_cpu_s=pg1 - pg0,
    )


def _ceiling(hub: Hub, fleet: Fleet, seconds: float) -> Ceiling:
    from locker.uplink.messages import every

    sub = Subscriber(
        hub.broker.port,
        hub.broker.hub_user,
        hub.broker.hub_password,
        every("evt"),
        hub.folder,
    )
    try:
        # Its output is block-buffered (a pipe): the window opens at the first count it
        # reports, not before, and closes when the publishers stop (±1 buffer, ~30 events).
        fleet.send("flat", seconds)
        deadline = time.monotonic() + WAIT_S
        while sub.received == 0:
            if time.monotonic() > deadline:
                raise SystemExit("bench.fleet: the ceiling's subscriber received nothing")
            time.sleep(0.005)
        before, t0 = sub.received, time.monotonic()
        results = fleet.collect()
        after, t1 = sub.received, time.monotonic()
        return Ceiling(
            stations=len(hub.names),
            seconds=t1 - t0,
            sent=sum(r["sent"] for r in results),
            received=after - before,
        )
    finally:
        sub.stop()


def run(
    stations: int,
    *,
    multiples: Sequence[float] = (1, 100),
    seconds: float = 60,
    ceiling_seconds: float = 15,
    drain: float = 30,
    burst: int = 0,
    workers: Sequence[int] = (1, 2),
) -> FleetRun:
    """One fleet of ``stations``: every rate multiple in turn (one worker); then, if
    ``burst``, the hub's capacity with each number of ``workers`` (a burst of that many
    events each); then the broker's ceiling."""
    import tempfile

    processes = max(1, min(4, math.ceil(stations / STATIONS_PER_PROCESS)))
    if stations >= 500:
        processes = max(processes, 2)
    limit = raise_fd_limit(stations + 4096)  # the broker (our child) inherits it
    if limit < stations + 64:
        raise SystemExit(f"bench.fleet: {stations} stations need more than {limit} files open")
    began = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    hub = Hub(stations, folder)
    fleet: Fleet | None = None
    try:
        hub.start_worker()
        fleet = Fleet(hub, processes)
        wait_for(
            lambda: int(hub.scalar("SELECT count(*) FROM station_state WHERE online")) == stations,
            "every station's birth in the hub",
        )
        setup = time.monotonic() - began
        print(f"  N={stations}: set up in {setup:.0f} s", file=sys.stderr, flush=True)
        phases = []
        for m in multiples:
            phases.append(_phase(hub, fleet, m, seconds, drain))
            print(f"  N={stations}: {m:g}× done", file=sys.stderr, flush=True)
        capacities = []
        for w in workers if burst else ():
            capacities.append(fleet_capacity.measure(hub, fleet, w, burst))
            print(f"  N={stations}: capacity, {w} worker(s) done", file=sys.stderr, flush=True)
        resends = int(hub.scalar("SELECT count(*) FROM commands WHERE type = 'resend'"))
        hub.stop_worker()
        ceiling = _ceiling(hub, fleet, ceiling_seconds)
        return FleetRun(stations, processes, setup, ceiling, phases, resends, capacities)
    finally:
        if fleet is not None:
            fleet.close()
        hub.close()
        shutil.rmtree(folder, ignore_errors=True)


def _s(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.0f} s"


def _lag(values: list[float], censored: int, pick: Any) -> str:
    if not values:
        return "no event"
    value = pick(values)
    # a percentile at or above the smallest censored age may be censored itself
    return ("≥ " if censored and value >= min(sorted(values)[-censored:]) else "") + _s(value)


def rows_of(result: FleetRun) -> list[Row]:
    ceiling = result.ceiling
    n = f"{result.stations:,}"
    rows = [
        Row(
            f"broker alone (the ceiling), N={n}: {ceiling.per_s:,.0f} events/s",
            f"{n} stations in {result.processes} process(es) publishing QoS 1 flat out, "
            f"one `mosquitto_sub` (QoS 1, no database), {ceiling.seconds:.0f} s, "
            f"{ceiling.received:,} of {ceiling.sent:,} received",
            "—",
            "",
            "",
            "1×",
        )
    ]
    for ph in result.phases:
        cpu_pct = ph.cpu_per_1000 * 100
        pg_pct = ph.postgres_cpu_s / ph.seconds * 1000 / ph.stations * 100
        left = f", {ph.censored:,} not in after the drain" if ph.censored else ""
        per_event = ph.worker_cpu_s / max(1, ph.in_window) * 1000
        rows.append(
            Row(
                f"hub ingest into PostgreSQL, N={n}, {ph.multiple:g}× busy day: "
                f"{ph.ingest_per_s:,.1f} events/s stored (offered {ph.offered_per_s:,.1f} of "
                f"{ph.target_per_s:,.1f}); lag station commit → hub row",
                f"{ph.offered:,} events in {ph.seconds:.0f} s{left}; hub worker CPU "
                f"{cpu_pct:.2f} % of a core per 1,000 stations, {per_event:.1f} ms an event "
                f"stored (PostgreSQL {pg_pct:.2f} %)",
                f"broker alone {ceiling.per_s:,.0f} events/s",
                _lag(ph.lags, ph.censored, p50),
                _lag(ph.lags, ph.censored, p99),
                f"{ph.ingest_per_s / ceiling.per_s:.3f}× ceiling",
            )
        )
    return rows + fleet_capacity.rows_of(result.capacities, ceiling.per_s)


def measure(
    stations: Sequence[int],
    *,
    multiples: Sequence[float] = (1, 100),
    seconds: float = 60,
    ceiling_seconds: float = 15,
    drain: float = 30,
    burst: int = 0,
) -> list[Row]:
    rows: list[Row] = []
    for n in stations:
        result = run(
            n,
            multiples=multiples,
            seconds=seconds,
            ceiling_seconds=ceiling_seconds,
            drain=drain,
            burst=burst,
        )
        rows += rows_of(result)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", default="100,1000,10000", help="N, comma-separated")
    parser.add_argument("--rates", default="1,100", help="multiples of the busy-day rate")
    parser.add_argument("--seconds", type=float, default=60, help="each rate's window")
    parser.add_argument("--ceiling-seconds", type=float, default=15)
    parser.add_argument("--drain", type=float, default=30, help="catch-up after a window")
    parser.add_argument(
        "--burst", type=int, default=40_000, help="events of each capacity burst (0: none)"
    )
    parser.add_argument("--workers", default="1,2", help="workers of each capacity burst")
    args = parser.parse_args()
    began = time.monotonic()
    rows: list[Row] = []
    for n in (int(x) for x in args.stations.split(",")):
        result = run(
            n,
            multiples=[float(x) for x in args.rates.split(",")],
            seconds=args.seconds,
            ceiling_seconds=args.ceiling_seconds,
            drain=args.drain,
            burst=args.burst,
            workers=[int(x) for x in args.workers.split(",")],
        )
        print(
            f"N={n} done ({time.monotonic() - began:.0f} s, set-up {result.setup_s:.0f} s,"
            f" {result.resends} resends asked)",
            flush=True,
        )
        rows += rows_of(result)
    print()
    print(
        f"`python -m bench.fleet` on {platform.node()} ({os.cpu_count()} cores), "
        f"Python {platform.python_version()}, {time.monotonic() - began:.0f} s in all"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
