"""Every board family: code → unlock frame on the wire, and the whole-bus status read.

For each family (Kerong CU16 at 19,200 Bd, the 8A/80 board and Modbus relay boards at
9,600 Bd), a station of 2 boards × 8 compartments:

(a) code → unlock frame: ``locker serve`` in its own process on the family's simulator
    (a pty); from a customer's ``POST /api/v1/collect`` to the last byte of the unlock
    frame (CU16 0x31, ``8A BB LL 11 X``, the Modbus flash-on FC05), beside the frame's
    own wire time at the family's baud rate;
(b) the door watcher's read of every door (``SerialLocks.read()``), beside its wire floor:
    CU16 one whole-bus request and 2 answers; the 8A/80 board one read-all per board;
    Modbus one FC02 input read per board.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from bench.code_to_unlock import _fill
from bench.common import (
    Row,
    against,
    byte_s,
    courier_station,
    locker_serve,
    scratch,
    timed,
)
from drivers.station_locks import SerialLocks
from locker.layout import load_layout
from sim.station import SimStation

BOARDS = 2
PER_BOARD = 8
FAMILIES = {  # family: (baud, [[board]] keys, unlock frame bytes, status read wire bytes)
    "kerong": (19200, 'type = "cu16"\npulse_ms = 50', 5, 5 + BOARDS * 9),
    "xor8a": (9600, 'type = "xor8a"\nchannels = 8\npulse_ms = 50', 5, BOARDS * (5 + 5)),
    "modbus-relay": (9600, 'type = "modbus-relay-8"\npulse_ms = 100', 8, BOARDS * (8 + 6)),
}


def is_unlock(family: str, raw: bytes) -> bool:
    if family == "kerong":
        return raw[2] == 0x31
    if family == "xor8a":
        return raw[0] == 0x8A
    return raw[1] == 0x05 and raw[2] == 0x02


def layout_text(family: str, port: str) -> str:
    baud, board, _unlock, _status = FAMILIES[family]
    first = 0 if family == "kerong" else 1
    parts = [f'[[bus]]\nid = "main"\nport = "{port}"\nfamily = "{family}"\nbaud = {baud}\n']
    parts += [f"[[board]]\naddress = {first + b}\n{board}\n" for b in range(BOARDS)]
    for n in range(BOARDS * PER_BOARD):
        parts.append(
            f"[[compartment]]\nid = {n + 1}\nboard = {first + n // PER_BOARD}\n"
            f'lock = {n % PER_BOARD + 1}\nsize = "M"\ncolumn = {n // PER_BOARD + 1}\n'
            f"row = {n % PER_BOARD + 1}\n"
        )
    return "\n".join(parts)


def measure(family: str, runs: int, sweeps: int) -> list[Row]:
    with scratch(f"bench-{family}-") as folder:
        return _measure(folder, family, runs, sweeps)


def _measure(folder: Path, family: str, runs: int, sweeps: int) -> list[Row]:
    baud, _board, unlock_bytes, status_bytes = FAMILIES[family]
    (folder / "sim.toml").write_text(layout_text(family, "sim"))
    sim = SimStation(load_layout(folder / "sim.toml"))
    to_frame: list[float] = []
    with sim.serve("pty") as ports:
        (folder / "station.toml").write_text(layout_text(family, ports["main"]))
        env, courier = courier_station(folder, folder / "station.toml")
        sim_bus = sim.buses["main"]
        with (
            locker_serve(env, log=folder / "serve.log") as station,
            httpx.Client(base_url=station.base_url, timeout=30) as client,
        ):
            made = 0
            while len(to_frame) < runs:
                pins = _fill(station.base_url, courier, sim, made, min(BOARDS * PER_BOARD, runs))
                made += len(pins)
                for compartment, pin in pins:
                    seen = len(sim_bus.frames_received)
                    start = time.monotonic()
                    answer = client.post("/api/v1/collect", json={"code": pin})
                    if answer.status_code != 200:
                        raise SystemExit(f"collection failed: {answer.text}")
                    frames = sim_bus.frames_received[seen:]
                    to_frame.append(next(t for t, raw in frames if is_unlock(family, raw)) - start)
                    sim.take(compartment)
                    sim.close(compartment)
    layout = load_layout(folder / "sim.toml")
    sweep_sim = SimStation(layout)
    with sweep_sim.serve("pty") as ports, SerialLocks(layout, ports) as locks:
        if len(locks.read()) != BOARDS * PER_BOARD:
            raise SystemExit(f"{family}: the first sweep did not read every door")
        sweep = timed(sweeps, locks.read)
    conditions = f"{family}, {BOARDS}×{PER_BOARD} doors, {baud} Bd"
    return [
        against(
            f"code → unlock frame ({family})",
            f"{conditions}, {len(to_frame)} collections",
            "wire",
            unlock_bytes * byte_s(baud),
            to_frame,
            "wire",
        ),
        against(
            f"whole-bus door read ({family})",
            f"{conditions}, {sweeps} reads",
            "wire",
            status_bytes * byte_s(baud),
            sweep,
            "wire",
        ),
    ]


def main() -> None:
    from bench.common import table

    rows: list[Row] = []
    for family in FAMILIES:
        rows += measure(family, runs=48, sweeps=100)
    print(table(rows))


if __name__ == "__main__":
    main()
