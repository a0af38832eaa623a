"""Driver latency against the simulator on a real pty at 19,200 Bd, as ratios to wire time.

Run: ``.venv/bin/python bench/bench_driver.py [--runs 300]``. Prints one table:

(a) unlock: from the ``unlock()`` call to the modelled last byte of the unlock frame on the
    wire (the simulator's ``frames_received`` timestamp), next to the frame's wire time
    (5 B x 10 / 19200 s);
(b) whole-bus read of 10 boards: ``read_bus()`` call to return, next to the wire time of the
    request and the ten answers (5 B + 10 x 9 B);
(c) one board's status read: call to return, next to its wire time (5 B + 9 B).

"floor" is what the simulator itself needs: wire time plus the board's processing time per
answer (for the broadcast: one per board, answers follow one another). Ratios are to wire time.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable

from drivers.bus import LockBus
from drivers.kerong_cu16 import CMD_UNLOCK, Cu16Board
from sim.bus import SimBus
from sim.server import serve_pty

BAUD = 19200
BYTE_S = 10 / BAUD  # 8N1 (lock-protocol.md §1.1)
PROCESSING_S = 0.002  # simulated board reaction time (the simulator's default)
PULSE_MS = 10  # short pulses keep the unlock runs quick; the bench times the frame, not the pulse
BOARDS = 10


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def timed(runs: int, action: Callable[[], object]) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.monotonic()
        action()
        samples.append(time.monotonic() - start)
    return samples


def unlock_to_last_byte(sim: SimBus, board: Cu16Board, runs: int) -> list[float]:
    samples = []
    for run in range(runs):
        lock = run % 16 + 1
        seen = len(sim.frames_received)
        start = time.monotonic()
        result = board.unlock(lock)
        if not result.released:
            raise SystemExit(f"unlock of lock {lock} not confirmed: {result}")
        frames = sim.frames_received[seen:]
        t_last = next(t for t, raw in frames if raw[2] == CMD_UNLOCK)
        samples.append(t_last - start)
        sim.close_door(0, lock)
    return samples


def row(name: str, wire_s: float, floor_s: float, samples: list[float]) -> str:
    median, tail = statistics.median(samples), p99(samples)
    return (
        f"{name:<28} {wire_s * 1e3:8.2f} {floor_s * 1e3:8.2f} {median * 1e3:9.2f} "
        f"{tail * 1e3:9.2f} {median / wire_s:8.2f} {tail / wire_s:8.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="runs per measurement")
    runs = parser.parse_args().runs
    sim = SimBus(
        protocol="cu16",
        addresses=range(BOARDS),
        baud=BAUD,
        pulse_ms=PULSE_MS,
        processing_s=PROCESSING_S,
    )
    with serve_pty(sim) as path, LockBus(path, baudrate=BAUD, timeout_s=0.2) as line:
        boards = [
            Cu16Board(line, a, pulse_ms=PULSE_MS, release_margin_s=0.005) for a in range(BOARDS)
        ]
        boards[0].status()  # open the port outside the measurements
        unlock = unlock_to_last_byte(sim, boards[0], runs)
        bus_read = timed(runs, lambda: Cu16Board.read_bus(line, boards))
        status = timed(runs, boards[3].status)
        counters = line.counters()
    print(
        f"pty, {BAUD} Bd, {runs} runs each, board processing {PROCESSING_S * 1e3:.1f} ms "
        f"(simulated)"
    )
    print(
        f"{'measurement':<28} {'wire ms':>8} {'floor ms':>8} {'median ms':>9} "
        f"{'p99 ms':>9} {'med/wire':>8} {'p99/wire':>8}"
    )
    print(row("(a) unlock -> last byte", 5 * BYTE_S, 5 * BYTE_S, unlock))
    bus_wire = (5 + BOARDS * 9) * BYTE_S
    print(
        row(
            f"(b) whole-bus read, {BOARDS} boards",
            bus_wire,
            bus_wire + BOARDS * PROCESSING_S,
            bus_read,
        )
    )
    print(row("(c) one board status", 14 * BYTE_S, 14 * BYTE_S + PROCESSING_S, status))
    print(
        f"errors during the bench: timeouts {counters.timeouts}, retries {counters.retries}, "
        f"checksum {counters.checksum_errors}, unexpected {counters.unexpected_answers}"
    )


if __name__ == "__main__":
    main()
