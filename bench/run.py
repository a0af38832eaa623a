"""``make bench``: every benchmark of the station, printed as one table.

Run: ``.venv/bin/python -m bench.run [--quick]``. Each figure stands beside its floor (the
bytes on the wire at that baud rate) or a baseline measured in the same run, as a ratio:
the machines are shared and noisy, the ratios travel better than the milliseconds.
``--quick`` runs every part briefly (a smoke run, not figures to quote).
"""

from __future__ import annotations

import argparse
import platform
import time

from bench import (
    code_to_unlock,
    cold_groups,  # cooled compartments (issue 27)
    directory_search,  # the directory (issue 17)
    families,  # every board family (issue 27)
    fleet,
    pay_at_pickup,
    small_computer,  # one core, a Pi-class quota (issue 29)
    startup,
    status_sweep,
    throughput,
    zvt_payment,  # the kiosk's card terminal (issue 28)
)
from bench.common import Row, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a brief smoke run of every part")
    quick = parser.parse_args().quick
    began = time.monotonic()
    rows: list[Row] = []
    for baud in (9600, 19200):
        rows += code_to_unlock.measure(baud, runs=30 if quick else 1000, pulse_ms=50)
        # with a fleet hub configured, beside the same without one (issue 25)
        rows += code_to_unlock.measure_with_hub(baud, runs=32 if quick else 500, pulse_ms=50)
        print(f"code-to-unlock at {baud} Bd done ({time.monotonic() - began:.0f} s)", flush=True)
    for baud in (9600, 19200):
        rows += status_sweep.measure(baud, runs=20 if quick else 300)
    print(f"status sweeps done ({time.monotonic() - began:.0f} s)", flush=True)
    for family in families.FAMILIES:  # each beside its own wire floor at its baud rate
        rows += families.measure(family, runs=16 if quick else 200, sweeps=20 if quick else 300)
    print(f"board families done ({time.monotonic() - began:.0f} s)", flush=True)
    rows += throughput.measure([1, 8, 32], seconds=3 if quick else 20, pulse_ms=50)
    print(f"throughput done ({time.monotonic() - began:.0f} s)", flush=True)
    rows += pay_at_pickup.measure(runs=10 if quick else 100)  # issue 28
    print(f"pay at pick-up done ({time.monotonic() - began:.0f} s)", flush=True)
    rows += startup.measure(repeats=2 if quick else 5)
    print(f"start-up done ({time.monotonic() - began:.0f} s)", flush=True)
    rows += small_computer.measure(
        repeats=1 if quick else 5, collections=8 if quick else 128, sweeps=5 if quick else 100
    )
    print(f"the small computer done ({time.monotonic() - began:.0f} s)", flush=True)
    # The courier's search in the directory, beside an indexed lookup (issue 17).
    for size in (5000,) if quick else (5000, 50_000):
        rows += directory_search.measure(size, runs=30 if quick else 500)
    print(f"directory search done ({time.monotonic() - began:.0f} s)", flush=True)
    # A card payment at the ZVT terminal simulator, beside the bare TCP round trip.
    rows += zvt_payment.measure(
        runs=1 if quick else 5, bare_runs=20 if quick else 300, scale=0.1 if quick else 1.0
    )
    print(f"card payment done ({time.monotonic() - began:.0f} s)", flush=True)
    rows += cold_groups.measure(runs=60 if quick else 300)  # cooled compartments (issue 27)
    rows += cold_groups.measure_on_modbus(runs=20 if quick else 100)  # over the XY-MD02 sim
    print(f"cold groups done ({time.monotonic() - began:.0f} s)", flush=True)
    # The fleet hub with 100 stations (python -m bench.fleet runs 100, 1,000 and 10,000).
    rows += fleet.measure(
        [100],
        seconds=10 if quick else 60,
        ceiling_seconds=5 if quick else 15,
        drain=10 if quick else 30,
        burst=5000 if quick else 40_000,  # the hub's capacity, one worker and two
    )
    print()
    print(
        f"`make bench` ({'quick' if quick else 'full'}) on {platform.node()}, "
        f"Python {platform.python_version()}, {time.monotonic() - began:.0f} s in all"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
