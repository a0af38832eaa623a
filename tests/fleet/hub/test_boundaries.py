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


def test_the_locker_command_loads_only_the_hubs_command_table() -> None:
    code = "import json, sys, api.cli; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = set(json.loads(out.stdout))
    assert "fleet.cli" in loaded
    assert not {m for m in loaded if m.startswith(("fleet.db", "fleet.ingest", "paho", "psycopg"))}
