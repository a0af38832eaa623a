"""Prometheus metrics of one station (a registry per app, so tests can run several)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from locker.locks import DoorOutcome
from locker.services.doors import DoorResult
from locker.types import DoorPurpose

# The pulse (550 ms by default) and the read-back after it dominate code-to-unlock.
UNLOCK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.0, 1.5, 2.5, 5.0)


class _Live(Collector):
    """Values read when scraped: bus counters and station gauges."""

    def __init__(
        self,
        bus_health: Callable[[], Mapping[str, Mapping[str, int]]],
        gauges: Callable[[], Mapping[str, Mapping[str, int]]],
    ) -> None:
        self._bus_health = bus_health
        self._gauges = gauges

    def collect(self) -> Iterator[Metric]:
        errors = CounterMetricFamily(
            "locker_bus_errors", "Errors on the lock-board buses", labels=["bus", "kind"]
        )
        traffic = CounterMetricFamily(
            "locker_bus_frames", "Frames exchanged on the lock-board buses", labels=["bus", "kind"]
        )
        for bus, counters in self._bus_health().items():
            for kind, value in counters.items():
                family = traffic if kind in ("requests", "commands", "replies") else errors
                family.add_metric([bus, kind], value)
        yield errors
        yield traffic
        for name, values in self._gauges().items():
            gauge = GaugeMetricFamily(f"locker_{name}", f"Current {name}", labels=["state"])
            for label, value in values.items():
                gauge.add_metric([label], value)
            yield gauge


class Metrics:
    def __init__(
        self,
        bus_health: Callable[[], Mapping[str, Mapping[str, int]]],
        gauges: Callable[[], Mapping[str, Mapping[str, int]]],
    ) -> None:
        self.registry = CollectorRegistry()
        self.doors_opened = Counter(
            "locker_doors_opened",
            "Doors seen open after an unlock",
            ["purpose"],
            registry=self.registry,
        )
        self.doors_not_opened = Counter(
            "locker_doors_not_opened",
            "Unlocks after which the door was not seen open",
            ["purpose", "outcome"],
            registry=self.registry,
        )
        self.attempts_rejected = Counter(
            "locker_code_attempts_rejected",
            "Pickup codes refused: invalid, or while the caller must wait",
            ["reason"],
            registry=self.registry,
        )
        self.code_to_unlock = Histogram(
            "locker_code_to_unlock_seconds",
            "From a collection request to the board's confirmation that the door opened",
            buckets=UNLOCK_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Live(bus_health, gauges))

    def doors(self, purpose: DoorPurpose, results: tuple[DoorResult, ...]) -> None:
        for result in results:
            if result.outcome is DoorOutcome.OPENED:
                self.doors_opened.labels(purpose.value).inc()
            else:
                self.doors_not_opened.labels(purpose.value, result.outcome.value).inc()
