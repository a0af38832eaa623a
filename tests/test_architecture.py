"""The boundaries of the design page, checked on what each package really imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def imported_by(module: str) -> set[str]:
    code = (
        "import importlib, json, pkgutil, sys\n"
        f"pkg = importlib.import_module({module!r})\n"
        "for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    if 'migrations' not in info.name and not info.name.endswith('__main__'):\n"
        "        importlib.import_module(info.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return {name.split(".")[0] for name in json.loads(out)}


def test_domain_imports_neither_web_nor_serial_nor_hardware() -> None:
    loaded = imported_by("locker")
    assert not loaded & {"fastapi", "starlette", "serial", "drivers", "sim", "api"}


@pytest.mark.parametrize(("package", "forbidden"), [("drivers", "sim"), ("sim", "drivers")])
def test_driver_and_simulator_share_no_code(package: str, forbidden: str) -> None:
    """Each side has its own codec, so a symmetric bug cannot pass the golden frames."""
    loaded = imported_by(package)
    assert forbidden not in loaded
    assert "fastapi" not in loaded
