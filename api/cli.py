"""The ``locker`` command: one entry point for the station, its database and its hardware."""

from __future__ import annotations

import typer

from locker.cli import db_app, layout_app

app = typer.Typer(help="Open pickup station controller.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(layout_app, name="layout")
