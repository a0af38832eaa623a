"""The hub is its own package: it loads nothing of the station's web app, and ``locker``
loads nothing of the hub's engines until a hub command runs."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.test_architecture import imported_by


def test_the_hub_imports_nothing_from_the_station_api() -> None:
    loaded = imported_by("fleet")
    assert "api" not in loaded
    assert {"fastapi", "sqlalchemy", "paho"} <= loaded  # it did load the hub


def test_the_locker_command_loads_nothing_of_the_hub_until_a_hub_command_runs() -> None:
    code = "import json, sys, api.cli; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = set(json.loads(out.stdout))
    assert not {m for m in loaded if m.startswith(("fleet", "paho", "psycopg"))}
    # and `locker hub` still finds the hub's commands when asked
    hub = "from api.cli import app; app(['hub', '--help'])"
    help_text = subprocess.run(
        [sys.executable, "-c", hub], check=False, capture_output=True, text=True
    ).stdout
    assert "station" in help_text
    assert "worker" in help_text
