"""The screens' shared files (``common/static``: base CSS, the CSRF script), served by
both the station and the hub under ``<their static path>/common``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).with_name("static")


def mount_common(app: FastAPI, static_path: str) -> None:
    """Serve the shared files at ``static_path + "/common"``; before the app's own static
    mount, which would otherwise take those paths."""
    app.mount(f"{static_path}/common", StaticFiles(directory=STATIC_DIR), name="common-static")
