"""Throughput: deposits + collections per second through the API, 1, 8 and 32 clients at once.

``locker serve`` runs in its own process on the SQLite default (WAL, synchronous=FULL),
with 8 simulated CU16 boards (128 compartments) in that process; the clients are threads
here, each with its own connection. A client's cycle is a parcel's whole life: deposit (a
door opens), the simulator's hands put the parcel in and close the door (``/api/v1/sim``),
confirm (the code), collect with the PIN (the door opens), the hands take it out and close.

Printed beside a baseline of the same run: ``GET /healthz`` requests per second at the same
concurrency (what the HTTP stack alone gives). The station process's peak resident memory
(VmHWM) is read at the end, beside its resident memory right after start-up.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.common import (
    Row,
    courier_station,
    locker_serve,
    ms,
    p50,
    p99,
    proc_kib,
    scratch,
    table,
    write_layout,
)

BOARDS = 8


def _healthz_rate(base_url: str, clients: int, seconds: float) -> float:
    stop = time.monotonic() + seconds
    counts = [0] * clients

    def run(i: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            while time.monotonic() < stop:
                client.get("/healthz").raise_for_status()
                counts[i] += 1

    start = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, range(clients)))
    return sum(counts) / (time.monotonic() - start)


class _Load:
    """Clients cycling parcels until a deadline; what they did and how long each door took."""

    def __init__(self, base_url: str, courier: dict[str, str], hands: dict[str, str]) -> None:
        self.base_url = base_url
        self.courier = courier
        self.hands = hands  # the simulator's token: the simulated doors are not for couriers
        self.lock = threading.Lock()
        self.deposits = 0
        self.collections = 0
        self.requests = 0
        self.door_latency: list[float] = []
        self.serial = 0

    def _next(self) -> int:
        with self.lock:
            self.serial += 1
            return self.serial

    def _post(self, client: httpx.Client, url: str, expect: int, **kw: object) -> httpx.Response:
        answer = client.post(url, **kw)  # type: ignore[arg-type]
        with self.lock:
            self.requests += 1
        if answer.status_code != expect:
            raise SystemExit(f"POST {url}: {answer.status_code} {answer.text}")
        return answer

    def _door(self, client: httpx.Client, url: str, expect: int, **kw: object) -> httpx.Response:
        start = time.monotonic()
        answer = self._post(client, url, expect, **kw)
        with self.lock:
            self.door_latency.append(time.monotonic() - start)
        return answer

    def cycle(self, client: httpx.Client) -> None:
        n = self._next()
        parcel = {"tracking_number": f"T{n}", "recipient_name": f"R{n}", "size": "M"}
        opened = self._door(
            client, "/api/v1/deposits", 201, json={"parcel": parcel}, headers=self.courier
        ).json()
        cid, pid = opened["door"]["compartment_id"], opened["parcel"]["id"]
        self._post(client, f"/api/v1/sim/doors/{cid}/put", 200, headers=self.hands)
        self._post(client, f"/api/v1/sim/doors/{cid}/close", 200, headers=self.hands)
        pin = self._post(
            client, f"/api/v1/parcels/{pid}/confirm", 200, headers=self.courier
        ).json()["code"]["pin"]
        with self.lock:
            self.deposits += 1
        self._door(client, "/api/v1/collect", 200, json={"code": pin})
        with self.lock:
            self.collections += 1
        self._post(client, f"/api/v1/sim/doors/{cid}/take", 200, headers=self.hands)
        self._post(client, f"/api/v1/sim/doors/{cid}/close", 200, headers=self.hands)

    def run(self, clients: int, seconds: float) -> float:
        stop = time.monotonic() + seconds

        def client_loop(_: int) -> None:
            with httpx.Client(base_url=self.base_url, timeout=60) as client:
                while time.monotonic() < stop:
                    self.cycle(client)

        start = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client_loop, range(clients)))
        return time.monotonic() - start


def measure(levels: list[int], seconds: float, pulse_ms: int) -> list[Row]:
    with scratch("bench-throughput-") as folder:
        return _measure(folder, levels, seconds, pulse_ms)


def _measure(folder: Path, levels: list[int], seconds: float, pulse_ms: int) -> list[Row]:
    layout = write_layout(
        folder / "layout.toml", boards=BOARDS, port="sim", baud=19200, pulse_ms=pulse_ms
    )
    env, courier = courier_station(folder, layout)
    env["LOCKER_SIM_TOKEN"] = secrets.token_urlsafe(24)
    hands = {"Authorization": f"Bearer {env['LOCKER_SIM_TOKEN']}"}
    rows: list[Row] = []
    memory: list[Row] = []
    with locker_serve(env, log=folder / "serve.log") as station:
        pid = station.process.pid
        rss_start = proc_kib(pid, "VmRSS")
        first: tuple[int, float] | None = None
        for clients in levels:
            healthz = _healthz_rate(station.base_url, clients, min(3.0, seconds))
            _reset_peak_rss(pid)
            load = _Load(station.base_url, courier, hands)
            elapsed = load.run(clients, seconds)
            peak = station.peak_rss_kib()
            ops = (load.deposits + load.collections) / elapsed
            first = first or (clients, ops)
            relative = f"{ops / first[1]:.2f}× {first[0]} client(s)" if first[1] else "n/a"
            requests = load.requests / elapsed
            rows.append(
                Row(
                    f"throughput: {ops:.1f} deposits+collections/s ({requests:.0f} req/s),"
                    f" {relative}",
                    f"{clients} clients, {elapsed:.0f} s, {load.deposits} deposits,"
                    f" {load.collections} collections, pulse {pulse_ms} ms",
                    f"GET /healthz {_rate(healthz)} at {clients} clients",
                    ms(p50(load.door_latency)) + " per door request",
                    ms(p99(load.door_latency)),
                    f"{requests / healthz:.3f}× healthz req/s",
                )
            )
            memory.append(
                Row(
                    f"station process peak memory (VmHWM), {clients} clients",
                    "128 compartments, simulator in the process",
                    f"RSS after start-up {rss_start / 1024:.1f} MiB",
                    f"{peak / 1024:.1f} MiB",
                    "",
                    f"{peak / rss_start:.2f}× start-up",
                )
            )
    return rows + memory


def _reset_peak_rss(pid: int) -> None:
    """Start VmHWM again from the current RSS (Linux: ``echo 5 > /proc/PID/clear_refs``)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _rate(per_s: float) -> str:
    return f"{per_s:.0f} req/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, action="append")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--pulse-ms", type=int, default=50)
    args = parser.parse_args()
    print(table(measure(args.clients or [1, 8, 32], args.seconds, args.pulse_ms)))


if __name__ == "__main__":
    main()
