"""Start-up: from spawning ``locker serve`` to its first answered request (``GET /healthz``).

Two cases, each several times: a first start (no database yet: it is created and migrated,
the key and the admin account are made) and a start on an existing station (the demo
layout, its simulator on a pseudo-terminal, the settling of interrupted door operations).
The baseline of the same run is the interpreter itself: ``python -c pass``, and importing
the app (``python -c "import api.serve"``), which is most of what a start costs.

Memory: the resident set (``VmRSS``) of the serving process right after its first answer,
beside that of ``python -c pass`` and of a bare FastAPI + SQLModel + uvicorn import (what
no station can go below) in the same run.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Row, locker_serve, ms, p50, proc_kib, station_env, table


def _spawn(args: list[str]) -> float:
    start = time.monotonic()
    subprocess.run(args, check=True)
    return time.monotonic() - start


def rss_mib(pid: int) -> float:
    """The resident set of a running process, from /proc (Linux)."""
    return proc_kib(pid, "VmRSS") / 1024


def _rss_of(code: str) -> float:
    """VmRSS of ``python -c code`` once it has run ``code`` (it reports its own)."""
    probe = (
        f"{code}\nfor line in open('/proc/self/status'):\n"
        "    if line.startswith('VmRSS:'): print(int(line.split()[1]) / 1024)"
    )
    done = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True)
    return float(done.stdout.split()[-1])


def measure(repeats: int) -> list[Row]:
    python = [sys.executable, "-c", "pass"]
    imports = [sys.executable, "-c", "import api.serve"]
    bare = [_spawn(python) for _ in range(repeats)]
    imported = [_spawn(imports) for _ in range(repeats)]
    first: list[float] = []
    again: list[float] = []
    resident: list[float] = []
    for _ in range(repeats):
        folder = Path(tempfile.mkdtemp(prefix="bench-startup-"))
        env = station_env(folder / "var")
        with locker_serve(env, log=folder / "serve.log") as station:
            first.append(station.started_s)
        with locker_serve(env, log=folder / "serve.log") as station:
            again.append(station.started_s)
            resident.append(rss_mib(station.process.pid))
        shutil.rmtree(folder)
    bare_rss = _rss_of("pass")
    floor_rss = _rss_of("import fastapi, sqlmodel, uvicorn")
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
        Row(
            "resident memory (VmRSS) after the first answer, existing station",
            conditions,
            f"`python -c pass` {bare_rss:.1f} MiB, FastAPI + SQLModel + uvicorn imported "
            f"{floor_rss:.1f} MiB",
            f"{p50(resident):.1f} MiB",
            f"{max(resident):.1f} MiB (max)",
            f"{p50(resident) / bare_rss:.1f}× python, {p50(resident) / floor_rss:.2f}× floor",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    print(table(measure(parser.parse_args().repeats)))


if __name__ == "__main__":
    main()
