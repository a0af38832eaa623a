"""The small computer's budget: the station on one core of a Raspberry Pi-class computer,
beside the same figures on the full machine, in the same run (issue 29).

Each condition applies to the station's own process only; the simulated boards, the
clients and the clock stay in this process:

- **full machine**: as every other benchmark;
- **one core**: ``taskset -c 0``;
- **one core at a Pi's speed**: ``taskset -c 0`` in a cgroup with a CPU quota (cgroup v2
  ``cpu.max``, else v1 ``cpu.cfs_quota_us``) of 40 % of a core, 4 ms in every 10 ms. A
  Raspberry Pi 4's Cortex-A72 at 1.5-1.8 GHz runs CPython at roughly a quarter to a third
  of a current x86 server core, a Pi 5's Cortex-A76 at 2.4 GHz at roughly a half; 40 % is
  the Pi 5 with some margin, and the Pi 4 is slower still (``--quota 0.25``). The period is
  10 ms rather than the usual 100 ms so that the throttling is a slower core and not 60 ms
  stops, which would land on latencies of a few ms by chance. Where the machine allows no
  cgroup (no cpu controller, not root, a container), the run says so and leaves it out.
  The pure-Python loop row shows what each condition makes of the core.

Figures in each condition:

(a) start-up of ``locker serve`` to its first answer (``GET /healthz``), on an existing
    station whose 8 CU16 boards are the simulator on a pseudo-terminal served by this
    process (to the station that is hardware: it loads the driver, not the simulator), its
    CPU time to that answer and its resident memory (VmRSS) after it; then the first
    screen (``GET /kiosk``, whose routes are built on their first request) from spawn to
    its answer, and the VmRSS after it;
(b) the floor: ``python -c "import fastapi, sqlmodel, uvicorn"`` from spawn to its report,
    its CPU time and its VmRSS. The station's own part of start-up is (a) minus (b); the
    targets are an own part of at most 0.5× the floor and a VmRSS of at most 1.3× the
    floor's;
(c) code → unlock frame (``bench.code_to_unlock``), at 19,200 Bd;
(d) the door watcher's sweep (``SerialLocks.read()`` of 8 boards × 16 locks, 19,200 Bd) in
    a child process under the condition, over a pseudo-terminal served by this process.

Bytecode is compiled first, as ``pip install`` does for an installed station (this
machine's environment may set ``PYTHONDONTWRITEBYTECODE``, which would make every start
compile the station's sources again).

Run: ``.venv/bin/python -m bench.small_computer [--repeats 5] [--quota 0.4]``.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

import api
import bench
import common
import drivers
import fleet
import locker
import sim
from bench import code_to_unlock
from bench.common import (
    CU16_REQUEST_BYTES,
    CU16_STATUS_BYTES,
    Row,
    courier_station,
    locker_serve,
    ms,
    p50,
    scratch,
    table,
    write_layout,
)
from bench.startup import rss_mib
from locker.layout import load_layout
from sim.station import SimStation

BOARDS = 8
BAUD = 19200
PERIOD_US = 10_000
GROUP = "lps-bench"
FLOOR = "fastapi, sqlmodel, uvicorn"
# The floor reports once its imports are done (its time is spawn → this line).
FLOOR_PROBE = f"""
import {FLOOR}
import time
rss = next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmRSS:'))
print(rss, time.process_time(), flush=True)
"""
LOOP_PROBE = """
import time
start = time.perf_counter()
sum(i * i for i in range(1_000_000))
print(time.perf_counter() - start)
"""


@dataclass
class Condition:
    name: str
    wrap: tuple[str, ...]
    how: str = ""  # the commands and settings that make it
    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, what: str, value: float) -> None:
        self.samples.setdefault(what, []).append(value)

    def p50(self, what: str) -> float:
        return p50(self.samples[what])


def child_env() -> dict[str, str]:
    """The children's environment: bytecode read from ``__pycache__``, as installed."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_bytecode() -> None:
    """The station's packages compiled to ``__pycache__`` (the libraries are, by pip)."""
    for package in (api, bench, common, drivers, fleet, locker, sim):
        compileall.compile_dir(Path(str(package.__file__)).parent, quiet=1, workers=0)


@contextmanager
def cpu_quota(quota: float) -> Iterator[tuple[Path | None, str]]:
    """A cgroup whose processes get ``quota`` of one core (4 ms of each 10 ms at 0.4):
    its ``cgroup.procs`` and a description, or None and why the machine allows none."""
    quota_us = round(quota * PERIOD_US)
    v2 = Path("/sys/fs/cgroup")
    v1 = v2 / "cpu"
    group: Path | None = None
    try:
        if "cpu" in _read(v2 / "cgroup.controllers").split():
            if "cpu" not in _read(v2 / "cgroup.subtree_control").split():
                (v2 / "cgroup.subtree_control").write_text("+cpu")
            group = v2 / GROUP
            group.mkdir(exist_ok=True)
            (group / "cpu.max").write_text(f"{quota_us} {PERIOD_US}")
            how = f'cgroup v2 cpu.max "{quota_us} {PERIOD_US}"'
        elif (v1 / "cpu.cfs_quota_us").exists():
            group = v1 / GROUP
            group.mkdir(exist_ok=True)
            (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (group / "cpu.cfs_quota_us").write_text(str(quota_us))
            how = f"cgroup v1 cpu.cfs_quota_us {quota_us} / cpu.cfs_period_us {PERIOD_US}"
        else:
            yield None, "no cgroup cpu controller on this machine"
            return
    except OSError as exc:
        yield None, f"no CPU quota: this machine does not allow it ({exc})"
        return
    try:
        yield group / "cgroup.procs", how
    finally:
        with suppress(OSError):  # a process still in it: it stays, for the next run
            group.rmdir()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def conditions(procs: Path | None, how: str) -> list[Condition]:
    """The full machine, one core, and one core under the quota (when there is one)."""
    core = str(min(os.sched_getaffinity(0)))
    found = [Condition("full machine", (), "no confinement")]
    if shutil.which("taskset") is None:
        print("no taskset on this machine: the full machine only", flush=True)
        return found
    one_core = ("taskset", "-c", core)
    found.append(Condition("one core", one_core, " ".join(one_core)))
    if procs is not None:  # the shell joins the group, then becomes the command
        join = ("sh", "-c", 'echo $$ > "$0" && exec "$@"', str(procs))
        found.append(
            Condition("one core, Pi-class quota", join + one_core, f"{' '.join(one_core)}, {how}")
        )
    return found


def cpu_s(pid: int) -> float:
    """The user and system CPU time of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def floor_sample(condition: Condition) -> None:
    start = time.monotonic()
    child = subprocess.Popen(
        [*condition.wrap, sys.executable, "-c", FLOOR_PROBE],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    condition.add("floor_s", time.monotonic() - start)
    child.wait(timeout=60)
    rss_kib, cpu = line.split()
    condition.add("floor_rss", int(rss_kib) / 1024)
    condition.add("floor_cpu", float(cpu))


def station_sample(condition: Condition, env: dict[str, str], log: Path) -> None:
    with locker_serve(env, log=log, wrap=condition.wrap) as station:
        pid = station.process.pid
        condition.add("cpu", cpu_s(pid))
        condition.add("rss", rss_mib(pid))
        condition.add("start", station.started_s)
        # The screens' routes are built on their first request (api.screens.lazy): the
        # kiosk's page right after the first answer shows what that first one costs.
        asked = time.monotonic()
        kiosk = httpx.get(station.base_url + "/kiosk", timeout=60)
        if kiosk.status_code != 200:
            raise SystemExit(f"the first screen answered {kiosk.status_code}")
        condition.add("screen", station.started_s + time.monotonic() - asked)
        condition.add("screen_rss", rss_mib(pid))


def loop_sample(condition: Condition) -> None:
    done = subprocess.run(
        [*condition.wrap, sys.executable, "-c", LOOP_PROBE],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(),
    )
    condition.add("loop", float(done.stdout.split()[-1]))


def sweep_samples(condition: Condition, folder: Path, runs: int) -> None:
    """The door watcher's sweep in a child process under the condition."""
    wire = {"boards": BOARDS, "baud": BAUD, "pulse_ms": 550}
    sim_station = SimStation(load_layout(write_layout(folder / "sim.toml", port="sim", **wire)))
    with sim_station.serve("pty") as ports:
        layout = write_layout(folder / "sweep.toml", port=ports["main"], **wire)
        done = subprocess.run(
            [*condition.wrap, sys.executable, "-m", "bench.small_computer", "sweep"]
            + [str(layout), str(runs)],
            capture_output=True,
            text=True,
            check=True,
            env=child_env(),
        )
    condition.samples["sweep"] = json.loads(done.stdout.splitlines()[-1])


def sweep_child(layout_path: Path, runs: int) -> None:
    """In the child: ``runs`` sweeps of every lock, their times as JSON on stdout."""
    from bench.common import timed
    from drivers.station_locks import SerialLocks

    layout = load_layout(layout_path)
    with SerialLocks(layout, {}) as locks:
        if len(locks.read()) != BOARDS * 16:  # opens the port outside the measurement
            raise SystemExit("the first sweep did not read every lock")
        print(json.dumps(timed(runs, locks.read)))


def measure(repeats: int, collections: int, sweeps: int, quota: float = 0.4) -> list[Row]:
    compile_bytecode()
    with ExitStack() as stack:
        procs, how = stack.enter_context(cpu_quota(quota))
        print(f"CPU quota: {how}", flush=True)
        found = conditions(procs, how)
        folder = stack.enter_context(scratch("bench-small-"))
        wire = {"boards": BOARDS, "baud": BAUD, "pulse_ms": 550}
        sim_station = SimStation(load_layout(write_layout(folder / "sim.toml", port="sim", **wire)))
        ports = stack.enter_context(sim_station.serve("pty"))
        layout = write_layout(folder / "station.toml", port=ports["main"], **wire)
        env, _ = courier_station(folder, layout)  # a station made, with a courier
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        log = folder / "serve.log"
        with locker_serve(env, log=log):  # migrated; every module's bytecode written
            pass
        floor_sample(found[0])  # the libraries' bytecode read once before the figures
        found[0].samples.clear()
        for _ in range(repeats):  # in turns, so that the machine's load falls on all alike
            for condition in found:
                floor_sample(condition)
                station_sample(condition, env, log)
                loop_sample(condition)
        print(f"start-ups done ({len(found)} conditions × {repeats})", flush=True)
        for condition in found:
            rig = code_to_unlock.collections(BAUD, collections, 50, wrap=condition.wrap)
            condition.samples["unlock"] = rig.to_frame
            sweep_samples(condition, folder, sweeps)
            print(f"{condition.name}: code → unlock and sweeps done", flush=True)
    return rows(found, repeats)


def rows(found: Sequence[Condition], repeats: int) -> list[Row]:
    full = found[0]
    wire = {
        "unlock": CU16_REQUEST_BYTES * 10 / BAUD,
        "sweep": (CU16_REQUEST_BYTES + BOARDS * CU16_STATUS_BYTES) * 10 / BAUD,
    }
    out: list[Row] = []
    for c in found:
        where = c.how
        starts = f"{where}; existing station, {BOARDS} CU16 boards on a pty; median of {repeats}"
        floor, start = c.p50("floor_s"), c.p50("start")
        out.append(
            Row(
                f"start-up of `locker serve` to the first answer, {c.name}",
                starts,
                f"floor: `import {FLOOR}` {ms(floor)}",
                ms(start),
                ms(max(c.samples["start"])) + " (max)",
                f"own part {(start - floor) / floor:.2f}× floor (target ≤ 0.5); "
                f"{start / full.p50('start'):.2f}× full machine",
            )
        )
        floor_cpu, cpu = c.p50("floor_cpu"), c.p50("cpu")
        out.append(
            Row(
                f"CPU time to the first answer, {c.name}",
                starts,
                f"floor {ms(floor_cpu)}",
                ms(cpu),
                ms(max(c.samples["cpu"])) + " (max)",
                f"own part {(cpu - floor_cpu) / floor_cpu:.2f}× floor",
            )
        )
        screen = c.p50("screen")
        out.append(
            Row(
                f"start-up to the first screen (`GET /kiosk` after the first answer), {c.name}",
                starts,
                f"first answer {ms(start)}",
                ms(screen),
                ms(max(c.samples["screen"])) + " (max)",
                f"own part {(screen - floor) / floor:.2f}× floor; "
                f"{screen / full.p50('screen'):.2f}× full machine",
            )
        )
        floor_rss, rss = c.p50("floor_rss"), c.p50("rss")
        out.append(
            Row(
                f"resident memory (VmRSS) after the first answer, {c.name}",
                starts,
                f"floor {floor_rss:.1f} MiB",
                f"{rss:.1f} MiB",
                f"{max(c.samples['rss']):.1f} MiB (max)",
                f"{rss / floor_rss:.2f}× floor (target ≤ 1.3); after the first screen "
                f"{c.p50('screen_rss'):.1f} MiB, {c.p50('screen_rss') / floor_rss:.2f}× floor",
            )
        )
        for what, title, count in (
            ("unlock", "code → unlock frame on the wire", "collections"),
            ("sweep", "door watcher's sweep, whole-bus request", "sweeps"),
        ):
            samples = c.samples[what]
            out.append(
                Row(
                    f"{title}, {c.name}",
                    f"{where}; {len(samples)} {count}, {BAUD} Bd, {BOARDS} boards",
                    f"full machine {ms(full.p50(what))}, wire {ms(wire[what])}",
                    ms(p50(samples)),
                    ms(sorted(samples)[max(0, round(0.99 * len(samples)) - 1)]),
                    f"{p50(samples) / full.p50(what):.2f}× full machine, "
                    f"{p50(samples) / wire[what]:.2f}× wire",
                )
            )
        out.append(
            Row(
                f"pure-Python loop (the core's speed), {c.name}",
                f"{where}; a million squares summed, median of {repeats}",
                f"full machine {ms(full.p50('loop'))}",
                ms(c.p50("loop")),
                ms(max(c.samples["loop"])) + " (max)",
                f"{c.p50('loop') / full.p50('loop'):.2f}× full machine",
            )
        )
    return out


def main() -> None:
    if sys.argv[1:2] == ["sweep"]:
        sweep_child(Path(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--collections", type=int, default=128)
    parser.add_argument("--sweeps", type=int, default=100)
    parser.add_argument("--quota", type=float, default=0.4, help="of one core [0.4]")
    args = parser.parse_args()
    print(table(measure(args.repeats, args.collections, args.sweeps, args.quota)))


if __name__ == "__main__":
    main()
