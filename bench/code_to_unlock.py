"""Code-to-unlock: from a customer's ``POST /api/v1/collect`` to the door, as ratios to the wire.

The station runs as ``locker serve`` in its own process, on 8 CU16 boards (128
compartments) whose bus is a pseudo-terminal served by the simulator in this process, so
the simulator's record (the modelled time of each frame's last byte, ``time.monotonic``,
one clock for both processes) shows when the unlock frame was on the wire. Each round fills
every compartment through the API (deposit, the simulator's hands put the parcel in and
close the door, confirm), then collects them one by one with their PINs, timing:

(a) code → unlock frame: from sending the request to the last byte of the unlock frame,
    beside the frame's wire time (5 bytes);
(b) code → answer "door open": to the HTTP answer, which the station gives once the board
    has confirmed the latch released (the read-back status after the pulse), beside its
    floor: unlock frame + pulse + the driver's wait after it + status request and answer
    on the wire + the board's reaction;
(c) baseline: ``GET /healthz`` round trips in the same run;
(d) code → unlock frame with a fleet hub configured (:func:`measure_with_hub`): the station
    captures its changes for the uplink and sends them to a real Mosquitto, beside the same
    station without a hub, both up at once and collecting in alternate rounds.

The door watcher reads every board every 0.5 s meanwhile, as in service.
"""

from __future__ import annotations

import argparse
import secrets
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from bench.common import (
    CU16_REQUEST_BYTES,
    CU16_STATUS_BYTES,
    PROCESSING_S,
    Row,
    against,
    byte_s,
    courier_station,
    locker_serve,
    p50,
    scratch,
    table,
    write_layout,
)
from drivers.kerong_cu16 import CMD_UNLOCK, Cu16Board
from locker.layout import load_layout
from sim.station import SimStation

BOARDS = 8


def measure(baud: int, runs: int, pulse_ms: int) -> list[Row]:
    return _rows(collections(baud, runs, pulse_ms), baud, pulse_ms)


def collections(baud: int, runs: int, pulse_ms: int, wrap: Sequence[str] = ()) -> _Rig:
    """``runs`` collections on a served station (``wrap`` goes before ``locker serve``: the
    small computer's conditions); the rig holds their timings."""
    with scratch(f"bench-unlock-{baud}-") as folder, ExitStack() as stack:
        rig = stack.enter_context(_station(folder, baud, pulse_ms, wrap=wrap))
        while len(rig.to_frame) < runs:
            rig.collect_round(runs - len(rig.to_frame))
    return rig


def measure_with_hub(baud: int, runs: int, pulse_ms: int) -> list[Row]:
    """Code → unlock frame with a fleet hub configured (the station captures every change
    for its uplink and sends it to a real Mosquitto) beside the same station without one,
    in the same run: both stations up at once, collecting in alternate rounds of 16, so
    that the machine's changing load falls on both alike."""
    from fleet.engines import FleetBroker

    with scratch(f"bench-unlock-hub-{baud}-") as folder, ExitStack() as stack:
        broker = FleetBroker.create(stations=["bench"])
        broker.start()
        stack.callback(broker.remove)
        user, password = broker.credentials("bench")
        hub = {
            "LOCKER_HUB_STATION": "bench",
            "LOCKER_MQTT_HOST": "127.0.0.1",
            "LOCKER_MQTT_PORT": str(broker.port),
            "LOCKER_MQTT_USER": user,
            "LOCKER_MQTT_PASSWORD": password,
            "LOCKER_HUB_COMMAND_KEY": secrets.token_hex(32),
        }
        (folder / "plain").mkdir()
        (folder / "hub").mkdir()
        plain = stack.enter_context(_station(folder / "plain", baud, pulse_ms))
        with_hub = stack.enter_context(_station(folder / "hub", baud, pulse_ms, hub))
        while len(with_hub.to_frame) < runs:
            for rig in (plain, with_hub):
                rig.collect_round(min(16, runs - len(with_hub.to_frame)))
    conditions = f"{len(with_hub.to_frame)} collections each, {baud} Bd, pulse {pulse_ms} ms"
    return [
        against(
            "code → unlock frame, hub configured",
            f"{conditions}; the uplink connected to a real Mosquitto",
            "the same without a hub",
            p50(plain.to_frame),
            with_hub.to_frame,
            "without a hub",
        )
    ]


class _Rig:
    """One served station on its simulated boards, collecting parcels it stored itself."""

    def __init__(self, base_url: str, courier: dict[str, str], sim: SimStation) -> None:
        self.base_url = base_url
        self.courier = courier
        self.sim = sim
        self.client = httpx.Client(base_url=base_url, timeout=30)
        self.to_frame: list[float] = []
        self.to_answer: list[float] = []
        self.baseline: list[float] = []
        self.made = 0

    def collect_round(self, wanted: int) -> None:
        """Store up to ``wanted`` parcels (at most a compartment each), then collect them."""
        sim, client = self.sim, self.client
        sim_bus = sim.buses["main"]
        pins = _fill(self.base_url, self.courier, sim, self.made, min(BOARDS * 16, wanted))
        self.made += len(pins)
        for compartment, pin in pins:
            seen = len(sim_bus.frames_received)
            start = time.monotonic()
            answer = client.post("/api/v1/collect", json={"code": pin})
            done = time.monotonic()
            if answer.status_code != 200:
                raise SystemExit(f"collection failed: {answer.text}")
            frames = sim_bus.frames_received[seen:]
            t_unlock = next(t for t, raw in frames if raw[2] == CMD_UNLOCK)
            self.to_frame.append(t_unlock - start)
            self.to_answer.append(done - start)
            sim.take(compartment)
            sim.close(compartment)
            t0 = time.monotonic()
            client.get("/healthz")
            self.baseline.append(time.monotonic() - t0)


@contextmanager
def _station(
    folder: Path,
    baud: int,
    pulse_ms: int,
    more: dict[str, str] | None = None,
    wrap: Sequence[str] = (),
) -> Iterator[_Rig]:
    wire = {"boards": BOARDS, "baud": baud, "pulse_ms": pulse_ms}
    sim = SimStation(load_layout(write_layout(folder / "sim.toml", port="sim", **wire)))
    with sim.serve("pty") as ports:
        station_layout = write_layout(folder / "station.toml", port=ports["main"], **wire)
        env, courier = courier_station(folder, station_layout)
        env.update(more or {})
        with locker_serve(env, log=folder / "serve.log", wrap=wrap) as station:
            rig = _Rig(station.base_url, courier, sim)
            try:
                yield rig
            finally:
                rig.client.close()


def _rows(rig: _Rig, baud: int, pulse_ms: int) -> list[Row]:
    to_frame, to_answer, baseline = rig.to_frame, rig.to_answer, rig.baseline
    unlock_wire = CU16_REQUEST_BYTES * byte_s(baud)
    status_wire = (CU16_REQUEST_BYTES + CU16_STATUS_BYTES) * byte_s(baud)
    answer_floor = (
        unlock_wire + pulse_ms / 1000 + Cu16Board.RELEASE_MARGIN_S + status_wire + PROCESSING_S
    )
    conditions = f"{len(to_frame)} collections, {baud} Bd, pulse {pulse_ms} ms"
    return [
        against(
            "code → unlock frame on the wire", conditions, "wire", unlock_wire, to_frame, "wire"
        ),
        against(
            "code → unlock frame, against HTTP",
            conditions,
            "GET /healthz",
            p50(baseline),
            to_frame,
            "healthz",
        ),
        against(
            "code → answer 'door open' (board confirmed)",
            conditions,
            "wire + pulse + wait",
            answer_floor,
            to_answer,
            "floor",
        ),
    ]


def _fill(
    base_url: str, courier: dict[str, str], sim: SimStation, made: int, count: int
) -> list[tuple[int, str]]:
    """Store ``count`` parcels through the API, 8 couriers at once; their compartments and PINs."""

    def one(n: int) -> tuple[int, str]:
        with httpx.Client(base_url=base_url, timeout=30, headers=courier) as client:
            parcel = {"tracking_number": f"B{made + n}", "recipient_name": f"R{made + n}"}
            opened = client.post("/api/v1/deposits", json={"parcel": {**parcel, "size": "M"}})
            if opened.status_code != 201:
                raise SystemExit(f"deposit failed: {opened.text}")
            compartment = opened.json()["door"]["compartment_id"]
            sim.put(compartment)
            sim.close(compartment)
            confirmed = client.post(f"/api/v1/parcels/{opened.json()['parcel']['id']}/confirm")
            if confirmed.status_code != 200:
                raise SystemExit(f"confirm failed: {confirmed.text}")
            return compartment, confirmed.json()["code"]["pin"]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--baud", type=int, action="append")
    parser.add_argument("--pulse-ms", type=int, default=50)
    args = parser.parse_args()
    rows: list[Row] = []
    for baud in args.baud or [9600, 19200]:
        rows += measure(baud, args.runs, args.pulse_ms)
        rows += measure_with_hub(baud, args.runs, args.pulse_ms)
    print(table(rows))


if __name__ == "__main__":
    main()
