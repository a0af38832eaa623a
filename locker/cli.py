"""Domain commands of ``locker``: the database and the layout (no hardware, no web)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from locker.db import Database
from locker.layout import LayoutError, demo_layout, load_layout
from locker.settings import Settings

db_app = typer.Typer(help="The station's database.", no_args_is_help=True)
layout_app = typer.Typer(help="The station's layout file.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database (LOCKER_DATABASE, default var/station.db) to the newest schema."""
    settings = Settings()
    db = Database(settings.database_path)
    try:
        db.upgrade()
        typer.echo(f"{settings.database_path}: at revision {db.current_revision()}")
    finally:
        db.close()


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision (none when it was never migrated)."""
    settings = Settings()
    db = Database(settings.database_path)
    try:
        typer.echo(db.current_revision() or "none")
    finally:
        db.close()


@layout_app.command("check")
def layout_check(
    path: Annotated[
        Path | None, typer.Argument(help="layout TOML; the demo layout if omitted")
    ] = None,
) -> None:
    """Validate a layout file and summarise it; exit 1 listing every problem with its line."""
    try:
        layout = load_layout(path) if path else demo_layout()
    except LayoutError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except OSError as exc:
        typer.echo(f"{path}: {exc.strerror}", err=True)
        raise typer.Exit(1) from exc
    sizes: dict[str, int] = {}
    for spec in layout.compartments:
        sizes[spec.size.value] = sizes.get(spec.size.value, 0) + 1
    summary = ", ".join(f"{n} x {size}" for size, n in sizes.items())
    typer.echo(
        f"{layout.name}: {len(layout.buses)} bus(es), {len(layout.boards)} board(s), "
        f"{len(layout.compartments)} compartments ({summary})"
    )
