"""Code-to-unlock through HTTP against the simulator on a real pty, as ratios to floors.

Run: ``.venv/bin/python bench/bench_http.py [--runs 100] [--baud 19200]``. The whole
station runs as ``locker serve`` would (demo layout: CU16 boards, 550 ms pulses, the door
watcher polling every 0.5 s), served by uvicorn on loopback; each run deposits a parcel
through the API, closes its door in the simulator, then times one collection by PIN:

(a) code → unlock frame: from sending ``POST /api/v1/collect`` to the modelled last byte
    of the unlock frame on the wire (the simulator's record), beside the frame's wire time;
(b) code → answer: to the HTTP answer saying the door opened, beside its floor: the pulse,
    the driver's margin after it, and the read-back's wire time;
(c) baseline: ``GET /healthz`` round trips in the same run (HTTP and thread-pool overhead).
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from importlib import resources
from pathlib import Path

import httpx

from api.app import create_app, make_context
from api.runtime import running_station
from api.threaded import served
from drivers.base import BoardBase
from drivers.kerong_cu16 import CMD_UNLOCK
from locker import accounts
from locker.settings import Settings
from locker.types import Role

PROCESSING_S = 0.002  # the simulated board's reaction time (the simulator's default)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def row(name: str, samples: list[float], floor: float) -> str:
    median = statistics.median(samples)
    return (
        f"| {name} | {floor * 1000:.2f} ms | {median * 1000:.2f} ms | "
        f"{p99(samples) * 1000:.2f} ms | {median / floor:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--baud", type=int, default=19200)
    args = parser.parse_args()
    byte_s = 10 / args.baud
    folder = Path(tempfile.mkdtemp(prefix="bench-http-"))
    layout_file = folder / "layout.toml"
    text = resources.files("locker").joinpath("demo_layout.toml").read_text(encoding="utf-8")
    layout_file.write_text(text.replace("baud = 19200", f"baud = {args.baud}"))
    settings = Settings(
        data_dir=folder / "var",
        layout=layout_file,
        _env_file=None,  # type: ignore[call-arg]
    )
    with running_station(settings, force_sim=True) as runtime:
        station, sim = runtime.station, runtime.sim
        assert sim is not None
        made = accounts.create_account(
            station,
            name="bench",
            role=Role.COURIER,
            carrier="Bench",
            actor="bench",
            with_token=True,
        )
        ctx = make_context(
            station,
            settings,
            bus_health=lambda: {k: v.as_dict() for k, v in runtime.locks.health().items()},
            sim_station=sim,
        )
        sim_bus = next(iter(sim.buses.values()))
        pulse_s = station.layout.boards[0].pulse_ms / 1000
        with served(create_app(ctx)) as base, httpx.Client(base_url=base, timeout=30) as client:
            courier = {"Authorization": f"Bearer {made.token}"}
            to_frame, to_answer, baseline = [], [], []
            for run in range(args.runs):
                parcel = {"tracking_number": f"B{run}", "recipient_name": "Bench", "size": "S"}
                opened = client.post(
                    "/api/v1/deposits", json={"parcel": parcel}, headers=courier
                ).json()
                cid, pid = opened["door"]["compartment_id"], opened["parcel"]["id"]
                sim.put(cid)
                sim.close(cid)
                code = client.post(f"/api/v1/parcels/{pid}/confirm", headers=courier).json()
                pin = code["code"]["pin"]
                seen = len(sim_bus.frames_received)
                start = time.monotonic()
                answer = client.post("/api/v1/collect", json={"code": pin})
                done = time.monotonic()
                if answer.status_code != 200:
                    raise SystemExit(f"collection {run} failed: {answer.text}")
                frames = sim_bus.frames_received[seen:]
                t_unlock = next(t for t, raw in frames if raw[2] == CMD_UNLOCK)
                to_frame.append(t_unlock - start)
                to_answer.append(done - start)
                sim.take(cid)
                sim.close(cid)
                t0 = time.monotonic()
                client.get("/healthz")
                baseline.append(time.monotonic() - t0)
    unlock_wire = 5 * byte_s
    status_wire = (5 + 9) * byte_s
    answer_floor = unlock_wire + pulse_s + BoardBase.RELEASE_MARGIN_S + status_wire + PROCESSING_S
    print(
        f"code-to-unlock through HTTP, {args.runs} collections, {args.baud} Bd, "
        f"pulse {pulse_s * 1000:.0f} ms, door watcher polling"
    )
    print("| measurement | floor | median | p99 | median / floor |")
    print("|---|---|---|---|---|")
    print(row("code → unlock frame on the wire", to_frame, unlock_wire))
    print(row("code → answer 'door open'", to_answer, answer_floor))
    median_base = statistics.median(baseline)
    print(
        f"| baseline GET /healthz | | {median_base * 1000:.2f} ms | "
        f"{p99(baseline) * 1000:.2f} ms | |"
    )


if __name__ == "__main__":
    main()
