"""A new user's first fleet command, from a fresh copy of the project: ``make fleet`` creates
its venv with the run dependencies only (no test extras), starts the hub and three stations
over TLS up to "the three stations are online", and stops cleanly on Ctrl-C. Then, in that
venv, the package installed without extras (``pip install <clone>``, not editable) imports
every module of the project's packages, so no import that ``make run`` or ``make fleet``
reaches can need a test-only package.

Slow (a venv and the project's dependencies from pip's cache, then a whole fleet): one test,
so ``make test``'s two workers build the venv once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from fleet.engines import port_accepts

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("locker", "drivers", "sim", "api", "fleet", "common")
# Only in the test extras (pyproject.toml): a fresh clone's venv must not have them.
# httpx is a run dependency now (the station sends its backups to the hub with it)
TEST_ONLY = ("pytest", "hypothesis", "playwright", "schemathesis", "aiosmtpd")
ONLINE = "the three stations are online"
WAIT_S = 600.0  # a bound on a first install and start, never an assertion

IMPORT_ALL = """
import importlib, importlib.util, json, pkgutil, sys
packages = sys.argv[1].split(",")
done, failed = [], {}
for name in packages:
    package = importlib.import_module(name)
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        if ".migrations" in info.name or info.name.endswith(".__main__"):  # run, not imported
            continue
        try:
            importlib.import_module(info.name)
            done.append(info.name)
        except Exception as exc:
            failed[info.name] = f"{type(exc).__name__}: {exc}"
test_only = [n for n in sys.argv[2].split(",") if importlib.util.find_spec(n) is not None]
where = {n: sys.modules[n].__file__ for n in packages}
print(json.dumps({"done": done, "failed": failed, "test_only": test_only, "where": where}))
"""


def _fresh_copy(target: Path) -> Path:
    """What a clone holds: the tracked files (and new ones not ignored), nothing built."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _clean_env(**extra: str) -> dict[str, str]:
    drop = ("LOCKER_", "FLEET_", "VIRTUAL_ENV", "PYTHONPATH", "HYPOTHESIS_", "PYTEST_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    path = [p for p in env.get("PATH", "").split(":") if not p.startswith(str(ROOT))]
    env["PATH"] = ":".join(path) or "/usr/bin:/bin"
    return {**env, **extra}


def _session_processes(sid: int) -> list[str]:
    """Processes still in the session ``make fleet`` ran in (its children and theirs)."""
    left = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:  # field 6 of stat: the session id
                left.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return left


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_make_fleet_from_a_fresh_clone_with_run_dependencies_only(tmp_path: Path) -> None:
    clone = _fresh_copy(tmp_path / "clone")
    demo_dir = tmp_path / "demo"
    started = time.monotonic()
    make = subprocess.Popen(
        ["make", "--no-print-directory", "fleet"],
        cwd=clone,
        env=_clean_env(FLEET_DEMO_DIR=str(demo_dir)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    assert make.stdout is not None
    lines: list[str] = []
    online = threading.Event()

    def read() -> None:
        assert make.stdout is not None
        for line in make.stdout:
            lines.append(line.rstrip("\n"))
            if ONLINE in line:
                online.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        while not online.wait(1.0):
            if make.poll() is not None or time.monotonic() - started > WAIT_S:
                break
        assert online.is_set(), "\n".join(lines[-40:])
        print(f"make fleet, fresh clone: online after {time.monotonic() - started:.1f} s")
        # Ctrl-C at the terminal: SIGINT to the whole foreground group.
        os.killpg(make.pid, signal.SIGINT)
        make.wait(timeout=120)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    reader.join(timeout=10)
    output = "\n".join(lines)
    (tmp_path / "make.log").write_text(output)
    assert "over TLS" in output.split(ONLINE, 1)[1].splitlines()[0]
    assert "stopping the fleet demo" in output, output[-3000:]
    assert "Traceback" not in output, output[-4000:]
    assert "ModuleNotFoundError" not in output
    # Everything it started has stopped: nothing left in its session, no port still open.
    assert _session_processes(make.pid) == []
    ports = {int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", output)}
    assert len(ports) >= 6  # the database, the broker's two listeners, the hub, 3 stations
    assert [p for p in ports if port_accepts(p)] == []

    # The same venv, the package installed plainly (not editable, no extras, no deps to add).
    python = clone / ".venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-qq", "--no-deps", str(clone)],
        check=True,
        cwd=tmp_path,
        env=_clean_env(),
    )
    probe = subprocess.run(
        [str(python), "-c", IMPORT_ALL, ",".join(PACKAGES), ",".join(TEST_ONLY)],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the clone: the installed package, not the source tree
        env=_clean_env(),
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["test_only"] == []
    assert found["failed"] == {}
    assert all("site-packages" in path for path in found["where"].values()), found["where"]
    loaded = set(found["done"])
    for module in ("fleet.demo", "fleet.cli", "fleet.app", "api.cli", "api.serve", "api.uplink"):
        assert module in loaded
