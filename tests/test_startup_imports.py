"""What a start loads: a station at the newest migration starts, serves and answers its
first request without loading what only some paths need (migrations, QR images, the
sealing of codes). Checked in a fresh interpreter, on the modules it really loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import locker
from tests.api.test_locker_command import LOCKER

NOT_AT_START = {
    "alembic",
    "mako",
    "qrcode",
    "cryptography",
    # what only some requests or commands need (issue 29, the small computer's budget)
    "jinja2",  # the screens' templates: built on the first page shown
    "rapidfuzz",  # the directory's search: on the first search
    "fleet",  # `locker hub`: only when it is asked for
    "argon2",  # passwords: on the first one set or checked
}
# The screens' routes: built on the first request that reaches them (api.screens.lazy).
SCREENS_NOT_AT_START = {"api.screens.kiosk", "api.screens.staff", "api.screens.courier"}

PROBE = """
import json, sys
from pathlib import Path
import httpx
import api.cli  # as `locker serve` starts
from api.app import create_app, make_context
from api.runtime import running_station
from api.threaded import served
from locker.runtime.settings import Settings

layout = Path(sys.argv[2]) if len(sys.argv) > 2 else None
settings = Settings(data_dir=Path(sys.argv[1]), layout=layout, _env_file=None)
with running_station(settings) as runtime:
    ctx = make_context(runtime.station, settings, sim_station=runtime.sim)
    with served(create_app(ctx)) as base_url:
        assert httpx.get(base_url + "/healthz").status_code == 200
        print(json.dumps(sorted(sys.modules)))
        kiosk = httpx.get(base_url + "/kiosk")  # the first screen: its routes are built now
        assert kiosk.status_code == 200 and "<html" in kiosk.text, kiosk.status_code
        print(json.dumps(sorted(sys.modules)))
"""


def _loaded(data_dir: Path, layout: Path | None = None) -> tuple[set[str], set[str]]:
    """The modules loaded once the first request was answered, and after the first screen."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(data_dir), *([str(layout)] if layout else [])],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    first, screen = (set(json.loads(line)) for line in done.stdout.splitlines()[-2:])
    return first, screen


def _loaded_at_start(data_dir: Path, layout: Path | None = None) -> set[str]:
    """The top-level packages loaded once the first request was answered."""
    return {name.split(".")[0] for name in _loaded(data_dir, layout)[0]}


def test_a_start_on_an_existing_station_loads_only_what_serving_needs(tmp_path: Path) -> None:
    first = _loaded_at_start(tmp_path / "var")  # a new station: it is migrated
    assert "alembic" in first
    again = _loaded_at_start(tmp_path / "var")  # at the newest migration already
    assert not again & NOT_AT_START, sorted(again & NOT_AT_START)
    assert {"fastapi", "sqlalchemy", "serial"} <= again  # it did start and serve


def test_the_screens_are_built_on_their_first_request(tmp_path: Path) -> None:
    _loaded(tmp_path / "var")  # a new station: migrated
    first, screen = _loaded(tmp_path / "var")
    assert not first & SCREENS_NOT_AT_START, sorted(first & SCREENS_NOT_AT_START)
    assert screen >= SCREENS_NOT_AT_START  # the kiosk's page was shown: they are built
    assert "jinja2" in screen  # and its template rendered


def test_a_station_on_real_boards_does_not_load_the_simulator(tmp_path: Path) -> None:
    """The boards here are the simulator in another process, on TCP as a Kerong BU box
    is: to the station they are hardware, so it has no reason to load ``sim``."""
    boards = subprocess.Popen(
        [*LOCKER, "sim", "--tcp", "127.0.0.1:0", "--boards", "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert boards.stdout is not None
        url = boards.stdout.readline().split(": ", 1)[1].strip()
        demo = (Path(locker.__file__).parent / "demo_layout.toml").read_text()
        layout = tmp_path / "layout.toml"
        layout.write_text(demo.replace('port = "sim"', f'port = "{url}"'))
        _loaded_at_start(tmp_path / "var", layout)  # new: migrated
        again = _loaded_at_start(tmp_path / "var", layout)
    finally:
        boards.terminate()
        boards.wait(timeout=10)
    assert "sim" not in again
    assert not again & NOT_AT_START
    assert "drivers" in again
