"""Start-up: from spawning ``locker serve`` to its first answered request (``GET /healthz``).

Two cases, each several times: a first start (no database yet: it is created and migrated,
the key and the admin account are made) and a start on an existing station (the demo
layout, its simulator on a pseudo-terminal, the settling of interrupted door operations).
The baseline of the same run is the interpreter itself: ``python -c pass``, and importing
the app (``python -c "import api.serve"``), which is most of what a start costs.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Row, locker_serve, ms, p50, station_env, table


def _spawn(args: list[str]) -> float:
    start = time.monotonic()
    subprocess.run(args, check=True)
    return time.monotonic() - start


def measure(repeats: int) -> list[Row]:
    python = [sys.executable, "-c", "pass"]
    imports = [sys.executable, "-c", "import api.serve"]
    bare = [_spawn(python) for _ in range(repeats)]
    imported = [_spawn(imports) for _ in range(repeats)]
    first: list[float] = []
    again: list[float] = []
    for _ in range(repeats):
        folder = Path(tempfile.mkdtemp(prefix="bench-startup-"))
        env = station_env(folder / "var")
        with locker_serve(env, log=folder / "serve.log") as station:
            first.append(station.started_s)
        with locker_serve(env, log=folder / "serve.log") as station:
            again.append(station.started_s)
        shutil.rmtree(folder)
    conditions = f"demo layout (32 compartments, simulator), median of {repeats}"
    return [
        Row(
            "start-up of `locker serve` to the first answer, first start",
            conditions + ", new database",
            f"`python -c pass` {ms(p50(bare))}",
            ms(p50(first)),
            ms(max(first)) + " (max)",
            f"{p50(first) / p50(bare):.1f}× python, {p50(first) / p50(imported):.2f}× import",
        ),
        Row(
            "start-up of `locker serve` to the first answer, existing station",
            conditions,
            f"`python -c 'import api.serve'` {ms(p50(imported))}",
            ms(p50(again)),
            ms(max(again)) + " (max)",
            f"{p50(again) / p50(bare):.1f}× python, {p50(again) / p50(imported):.2f}× import",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    print(table(measure(parser.parse_args().repeats)))


if __name__ == "__main__":
    main()
