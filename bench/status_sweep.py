"""Status sweep: read every lock of 8 CU16 boards x 16 locks, beside the wire floor.

The station's own door reader (``SerialLocks.read()``, what the door watcher calls every
0.5 s) over a pseudo-terminal against the simulator, at each baud rate:

(a) the sweep as the station does it: one whole-bus request, 8 answers one after another;
    floor: the request and the 8 answers on the wire, plus the boards' reaction;
(b) board by board (what a bus of boards without a whole-bus request needs): 8 status
    exchanges; floor: 8 x (request + answer) on the wire plus 8 reactions.

The ratio is to the wire time alone (the bytes at 10 bits each).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.common import (
    CU16_REQUEST_BYTES,
    CU16_STATUS_BYTES,
    PROCESSING_S,
    Row,
    against,
    byte_s,
    ms,
    scratch,
    table,
    timed,
    write_layout,
)
from drivers.station_locks import SerialLocks
from locker.layout import load_layout
from sim.station import SimStation

BOARDS = 8
LOCKS = 16


def measure(baud: int, runs: int) -> list[Row]:
    with scratch(f"bench-sweep-{baud}-") as folder:
        return _measure(folder, baud, runs)


def _measure(folder: Path, baud: int, runs: int) -> list[Row]:
    path = write_layout(folder / "layout.toml", boards=BOARDS, port="sim", baud=baud, pulse_ms=550)
    layout = load_layout(path)
    sim = SimStation(layout)
    with sim.serve("pty") as ports, SerialLocks(layout, ports) as locks:
        if len(locks.read()) != BOARDS * LOCKS:  # opens the port outside the measurement
            raise SystemExit("the first sweep did not read every lock")
        whole = timed(runs, locks.read)
        boards = [locks.board("main", a) for a in range(BOARDS)]
        one_by_one = timed(runs, lambda: [b.status() for b in boards])
        counters = locks.health()["main"]
    if counters.timeouts or counters.checksum_errors:
        raise SystemExit(f"errors during the sweep: {counters}")
    b = byte_s(baud)
    whole_wire = (CU16_REQUEST_BYTES + BOARDS * CU16_STATUS_BYTES) * b
    single_wire = BOARDS * (CU16_REQUEST_BYTES + CU16_STATUS_BYTES) * b
    reacting = BOARDS * PROCESSING_S
    conditions = f"{BOARDS} boards × {LOCKS} locks, {baud} Bd, {runs} sweeps"
    return [
        against(
            "status sweep, whole-bus request (as the station reads)",
            conditions,
            "wire",
            whole_wire,
            whole,
            "wire",
            f" (+ reaction {ms(whole_wire + reacting)})",
        ),
        against(
            "status sweep, board by board",
            conditions,
            "wire",
            single_wire,
            one_by_one,
            "wire",
            f" (+ reaction {ms(single_wire + reacting)})",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--baud", type=int, action="append")
    args = parser.parse_args()
    rows: list[Row] = []
    for baud in args.baud or [9600, 19200]:
        rows += measure(baud, args.runs)
    print(table(rows))


if __name__ == "__main__":
    main()
