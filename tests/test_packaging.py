"""The set-up a new user runs first: `make run` shows the station's own lines (with the
passwords), not the installer's warnings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_license_is_an_spdx_expression_not_a_deprecated_table() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "AGPL-3.0-or-later"
    requires = project["build-system"]["requires"]
    assert any(
        re.fullmatch(r"setuptools>=(\d+)", r) and int(r.split(">=")[1]) >= 77 for r in requires
    ), requires  # the first setuptools that reads the string


def test_the_makefile_installs_quietly_but_keeps_errors() -> None:
    makefile = (ROOT / "Makefile").read_text()
    installs = [
        line.strip()
        for line in makefile.splitlines()
        if "pip install" in line or line.strip().startswith("$(PIP)")
    ]
    assert installs, "no install step found"
    assert re.search(r"^PIP\s+:= .*pip install -qq --disable-pip-version-check$", makefile, re.M)
    for line in installs:
        # -qq drops pip's warnings; a third -q would drop its errors too
        assert line.startswith(("$(PIP)", "PIP")), line
        assert "-qqq" not in line, line
