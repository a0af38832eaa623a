"""A PostgreSQL in a temporary folder (until tests/fleet/engines.py lands)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres() -> Iterator[str]:
    """Yield a superuser URL ``postgresql+psycopg://…`` of a fresh cluster."""
    folder = Path(tempfile.mkdtemp(prefix="fleet-pg-"))
    user = "nobody"
    entry = pwd.getpwnam(user)
    os.chown(folder, entry.pw_uid, entry.pw_gid)
    data = folder / "data"
    port = _free_port()
    run = ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*run, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
        check=True,
        capture_output=True,
    )
    opts = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off"
    subprocess.run(
        [*run, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l",
         str(folder / "log"), "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)
