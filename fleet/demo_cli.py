"""``locker hub demo stop|start|status``: talk to the running ``make fleet`` demo."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

demo_app = typer.Typer(help="The running `make fleet` demo: stop or start one station.")

DemoDir = Annotated[
    Path | None, typer.Option("--dir", help="the demo's folder [FLEET_DEMO_DIR or var/fleet-demo]")
]


def _demo_dir(folder: Path | None) -> Path:
    return folder or Path(os.environ.get("FLEET_DEMO_DIR", "var/fleet-demo"))


def _tell_demo(folder: Path | None, line: str) -> None:
    from fleet import demo_stations as demo

    home = _demo_dir(folder).resolve()
    try:
        typer.echo(demo.send(home, line))
    except OSError as exc:
        typer.echo(f"error: demo_not_running: no demo answers in {home} ({exc})", err=True)
        raise typer.Exit(code=1) from None


@demo_app.command("stop")
def demo_stop(station: str, folder: DemoDir = None) -> None:
    """Stop one station of the running demo (as a power cut would end its work)."""
    _tell_demo(folder, f"stop {station}")


@demo_app.command("start")
def demo_start(station: str, folder: DemoDir = None) -> None:
    """Start one station again; its uplink sends the hub what it did meanwhile."""
    _tell_demo(folder, f"start {station}")


@demo_app.command("status")
def demo_status(folder: DemoDir = None) -> None:
    """Which demo stations run, and whether the hub sees them online."""
    _tell_demo(folder, "status")
