"""What the benchmarks share: a scratch folder, a bench station's layout and its courier,
`locker serve` as a child process, timing, percentiles, the wire arithmetic, and the table
they all print into (with the row of a measurement beside its reference)."""

from __future__ import annotations

import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

LOCKER = Path(sys.executable).with_name("locker")
BITS_PER_BYTE = 10  # 8N1 (lock-protocol.md §1.1)
PROCESSING_S = 0.002  # the simulated board's reaction time (the simulator's default)
CU16_REQUEST_BYTES = 5  # every CU16 host frame: STX, address, command, ETX, checksum
CU16_STATUS_BYTES = 9  # a CU16 board's status answer


def byte_s(baud: int) -> float:
    return BITS_PER_BYTE / baud


def p50(values: Sequence[float]) -> float:
    return statistics.median(values)


def p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Row:
    """One line of the table: a measurement beside its floor or same-run baseline."""

    measurement: str
    conditions: str
    reference: str  # what the ratio is taken against, with its value
    p50: str
    p99: str
    ratio: str


HEADER = ("measurement", "conditions", "floor / baseline", "p50", "p99", "ratio")


def against(
    measurement: str,
    conditions: str,
    reference: str,
    reference_s: float,
    samples: Sequence[float],
    unit: str,
    note: str = "",
) -> Row:
    """The row of timed ``samples`` beside a reference time (a floor or a same-run baseline)
    named ``reference`` (``note`` follows its time); the ratio is the median's to the
    reference, in ``unit``."""
    return Row(
        measurement,
        conditions,
        f"{reference} {ms(reference_s)}{note}",
        ms(p50(samples)),
        ms(p99(samples)),
        f"{p50(samples) / reference_s:.2f}× {unit}",
    )


def timed(runs: int, action: Callable[[], object]) -> list[float]:
    """How long ``action`` took, ``runs`` times."""
    samples = []
    for _ in range(runs):
        start = time.monotonic()
        action()
        samples.append(time.monotonic() - start)
    return samples


def table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in rows:
        cells = (r.measurement, r.conditions, r.reference, r.p50, r.p99, r.ratio)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def layout_toml(*, boards: int, port: str, baud: int, pulse_ms: int) -> str:
    """``boards`` CU16 boards of 16 size-M compartments each, one column per board."""
    parts = [
        '[station]\nname = "Bench station"\n',
        f'[[bus]]\nid = "main"\nport = "{port}"\nbaud = {baud}\ntimeout_ms = 200\n',
    ]
    for address in range(boards):
        parts.append(
            f'[[board]]\nbus = "main"\naddress = {address}\ntype = "cu16"\n'
            f'pulse_ms = {pulse_ms}\nhook_polarity = "engaged_high"\nir_sensors = true\n'
        )
    for board in range(boards):
        for lock in range(1, 17):
            parts.append(
                f"[[compartment]]\nid = {board * 16 + lock}\nboard = {board}\nlock = {lock}\n"
                f'size = "M"\ncolumn = {board + 1}\nrow = {lock}\n'
            )
    return "\n".join(parts)


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A folder of one measurement's files, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


def write_layout(path: Path, *, boards: int, port: str, baud: int, pulse_ms: int) -> Path:
    """:func:`layout_toml` written to ``path``."""
    path.write_text(layout_toml(boards=boards, port=port, baud=baud, pulse_ms=pulse_ms))
    return path


def courier_station(folder: Path, layout: Path) -> tuple[dict[str, str], dict[str, str]]:
    """A bench station's environment (its data in ``folder/var``, on ``layout``) and the
    ``Authorization`` header of a courier made for it."""
    env = station_env(folder / "var", LOCKER_LAYOUT=str(layout))
    return env, {"Authorization": f"Bearer {courier_token(env)}"}


def proc_kib(pid: int, field: str) -> int:
    """A memory figure of a process from ``/proc/PID/status`` (``VmRSS``, ``VmHWM``), KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith(field + ":")).split()[1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def station_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCKER_")}
    env.update({"LOCKER_DATA_DIR": str(data_dir), **extra})
    return env


def courier_token(env: dict[str, str]) -> str:
    """A courier account made with the station's own command; its bearer token."""
    out = subprocess.run(
        [str(LOCKER), "courier", "add", "bench", "--carrier", "Bench"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return next(line.split()[1] for line in out.splitlines() if line.startswith("token: "))


@dataclass
class Station:
    base_url: str
    process: subprocess.Popen[bytes]
    started_s: float  # from spawning the process to its first answered request

    def peak_rss_kib(self) -> int:
        """The station process's peak resident memory (VmHWM), read from /proc."""
        return proc_kib(self.process.pid, "VmHWM")


@contextmanager
def locker_serve(
    env: dict[str, str], *args: str, log: Path | None = None, wrap: Sequence[str] = ()
) -> Iterator[Station]:
    """``locker serve`` in its own process; yields once ``/healthz`` has answered 200.
    ``wrap`` goes before the command (e.g. ``taskset -c 0``: the small computer's core)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    out = open(log or os.devnull, "ab")  # noqa: SIM115 - closed below
    start = time.monotonic()
    process = subprocess.Popen(
        [*wrap, str(LOCKER), "serve", "--port", str(port), *args],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(base_url=base, timeout=2) as client:
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"locker serve exited with {process.returncode}; see {log}")
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.002)
        yield Station(base, process, time.monotonic() - start)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        out.close()
