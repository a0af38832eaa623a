"""What a start loads: a station at the newest migration starts, serves and answers its
first request without loading what only some paths need (migrations, QR images, the
sealing of codes). Checked in a fresh interpreter, on the modules it really loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

NOT_AT_START = {"alembic", "mako", "qrcode", "cryptography"}

PROBE = """
import json, sys
from pathlib import Path
import httpx
from api.app import create_app, make_context
from api.runtime import running_station
from api.threaded import served
from locker.settings import Settings

settings = Settings(data_dir=Path(sys.argv[1]), _env_file=None)
with running_station(settings) as runtime:
    ctx = make_context(runtime.station, settings, sim_station=runtime.sim)
    with served(create_app(ctx)) as base_url:
        assert httpx.get(base_url + "/healthz").status_code == 200
        print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _loaded_at_start(data_dir: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_a_start_on_an_existing_station_loads_only_what_serving_needs(tmp_path: Path) -> None:
    first = _loaded_at_start(tmp_path / "var")  # a new station: it is migrated
    assert "alembic" in first
    again = _loaded_at_start(tmp_path / "var")  # at the newest migration already
    assert not again & NOT_AT_START, sorted(again & NOT_AT_START)
    assert {"fastapi", "sqlalchemy", "serial"} <= again  # it did start and serve
