"""Domain commands of ``locker``: the database and the layout (no hardware, no web)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from locker.codes import load_or_create_key
from locker.layout import LayoutError, demo_layout, load_layout
from locker.runtime.settings import Settings
from locker.runtime.startup import check_station_database, open_database
from locker.station import utcnow
from locker.store.advice import describe, refusal
from locker.store.backups import (
    BackupError,
    copy_secret,
    key_beside,
    new_backup_path,
    newest_good,
    write_backup,
)
from locker.store.check import DatabaseUnusable, check_database
from locker.store.db import Database
from locker.store.offsite import (
    CopyError,
    CopyUnreadable,
    key_id,
    key_text,
    load_or_create_backup_key,
    parse_key_text,
)
from locker.store.restore import Restored, RestoreRefused, restore, restore_copy
from locker.store.station_lock import StationBusy, station_lock

db_app = typer.Typer(help="The station's database.", no_args_is_help=True)
layout_app = typer.Typer(help="The station's layout file.", no_args_is_help=True)

DataDir = Annotated[
    Path | None, typer.Option(help="where the database and key live (LOCKER_DATA_DIR)")
]


def _settings(data_dir: Path | None = None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database (LOCKER_DATABASE, default var/station.db) to the newest schema.

    It is checked first, and backed up into the backup folder before a migration. Not
    while a station runs on it (exit 75)."""
    settings = Settings()
    try:
        with station_lock(settings.database_path):
            db = open_database(settings, told=typer.echo)
            try:
                typer.echo(f"{settings.database_path}: at revision {db.current_revision()}")
            finally:
                db.close()
    except DatabaseUnusable as exc:
        typer.echo(refusal(exc, settings), err=True)
        raise typer.Exit(exc.exit_code) from exc
    except StationBusy as exc:
        typer.echo(f"not migrated: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from exc
    except BackupError as exc:
        typer.echo(f"not migrated: {exc}", err=True)
        raise typer.Exit(1) from exc


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision (none when it was never migrated)."""
    settings = Settings()
    try:
        check_database(settings.database_path, require_known=False)
    except DatabaseUnusable as exc:
        typer.echo(refusal(exc, settings), err=True)
        raise typer.Exit(exc.exit_code) from exc
    db = Database(settings.database_path)
    try:
        typer.echo(db.current_revision() or "none")
    finally:
        db.close()


@db_app.command("check")
def db_check(data_dir: DataDir = None) -> None:
    """Check the database without changing it (integrity_check, known revision).

    Exit 0 when it is fine, 65 when it is damaged or lost, 78 when a newer version wrote it."""
    settings = _settings(data_dir)
    path = settings.database_path.resolve()
    try:
        checked = check_station_database(settings, thorough=True)
    except DatabaseUnusable as exc:
        typer.echo(refusal(exc, settings), err=True)
        raise typer.Exit(exc.exit_code) from exc
    if not checked.exists or checked.is_new:
        typer.echo(f"ok: {path}: no station data yet (a new station starts with it)")
    else:
        typer.echo(
            f"ok: {path}: integrity_check ok, {checked.pages} pages, revision {checked.revision}"
            + (" (a migration is due at the next start)" if checked.needs_upgrade else "")
        )


@db_app.command("backup")
def db_backup(
    to: Annotated[
        Path | None,
        typer.Option(
            help="the backup file [<backup dir>/station-<UTC time>.db]; the key "
            "goes beside it as FILE.key"
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Back up the database (safe while the station runs) and the code key beside it."""
    settings = _settings(data_dir)
    dest = to or new_backup_path(settings.backup_path, utcnow())
    try:
        made = write_backup(settings.database_path, settings.key_path, dest)
    except (BackupError, DatabaseUnusable) as exc:
        typer.echo(f"no backup: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"backup: {describe(made)}, integrity_check ok")
    if made.key is None:
        typer.echo(f"warning: no code key at {settings.key_path} to put beside it", err=True)


@db_app.command("restore")
def db_restore(
    backup: Annotated[
        Path | None, typer.Argument(help="a backup file (its key beside it as FILE.key)")
    ] = None,
    data_dir: DataDir = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="replace a database that is not damaged as well"),
    ] = False,
    from_copy: Annotated[
        Path | None,
        typer.Option(
            "--from-copy",
            help="an encrypted copy (<backup>.lpsbak from LOCKER_BACKUP_COPY_TO or the hub)",
        ),
    ] = None,
    backup_key: Annotated[
        str | None,
        typer.Option(
            "--backup-key",
            help="the backup key as `locker db backup-key` printed it ('-': read it from "
            "stdin) [the station's own backup key file]",
        ),
    ] = None,
) -> None:
    """Put a backup in place of a damaged database (the damaged one is kept beside it).

    The station must be stopped. The backup is checked first; the key goes with it. With
    --from-copy, an encrypted copy is opened with the backup key and checked first."""
    settings = _settings(data_dir)
    if (backup is None) == (from_copy is None):
        typer.echo("not restored: give either a backup FILE or --from-copy COPY", err=True)
        raise typer.Exit(2)
    try:
        if from_copy is not None:
            done = restore_copy(
                from_copy,
                _backup_key(settings, backup_key),
                settings.database_path,
                settings.key_path,
                now=utcnow(),
                force=force,
            )
        else:
            assert backup is not None
            done = restore(
                backup, settings.database_path, settings.key_path, now=utcnow(), force=force
            )
    except DatabaseUnusable as exc:
        typer.echo(
            f"not restored: the backup {exc.path.resolve()} cannot be used: {exc.detail}. "
            "Nothing was changed.",
            err=True,
        )
        raise typer.Exit(exc.exit_code) from exc
    except (RestoreRefused, StationBusy) as exc:
        typer.echo(f"not restored: {exc}. Nothing was changed.", err=True)
        raise typer.Exit(exc.exit_code) from exc
    except CopyUnreadable as exc:
        typer.echo(f"not restored: {exc}. Nothing was changed.", err=True)
        raise typer.Exit(exc.exit_code) from exc
    _restored(done)


def _backup_key(settings: Settings, given: str | None) -> bytes:
    """The backup key given (or read from stdin), else the station's own file."""
    if given is None:
        path = settings.backup_key_path
        if not path.exists():
            typer.echo(
                f"not restored: no backup key at {path.resolve()}; give the one the shop "
                "kept with --backup-key lpsbk1-… ('-' reads it from stdin). Nothing was changed.",
                err=True,
            )
            raise typer.Exit(2)
        return path.read_bytes()
    text = typer.get_text_stream("stdin").readline() if given == "-" else given
    try:
        return parse_key_text(text)
    except ValueError as exc:
        typer.echo(f"not restored: {exc}. Nothing was changed.", err=True)
        raise typer.Exit(2) from exc


def _restored(done: Restored) -> None:
    typer.echo(
        f"restored {done.backup.resolve()} (taken {done.taken_at:%Y-%m-%d %H:%M:%S} UTC, "
        f"revision {done.revision}) to {done.database.resolve()}"
    )
    for source, dest in done.moved_aside:
        typer.echo(f"kept {source.name} as {dest.resolve()}")
    typer.echo(f"code key: {done.key}")
    typer.echo(
        "Changes made after the backup was taken are not in it: parcels deposited or "
        "collected since then are not known as they are; check the compartments on the "
        "maintenance screen. Start the station again: locker serve"
    )


@db_app.command("backup-key")
def db_backup_key(data_dir: DataDir = None) -> None:
    """Print the backup key that seals the copies off the card (made now if there is none).

    Keep it OFF the station (the shop's password manager, a printed sheet in its binder):
    a copy opens only with it, and a station whose card died has lost its own."""
    settings = _settings(data_dir)
    path = settings.backup_key_path
    existed = path.exists()
    try:
        key = load_or_create_backup_key(path)
    except CopyError as exc:
        typer.echo(f"no backup key: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(key_text(key))
    made = "made now" if not existed else "kept"
    typer.echo(
        f"backup key id {key_id(key).hex()}, {made} at {path.resolve()}. Keep this line OFF "
        "the station (the shop's password manager, or printed in its binder): the encrypted "
        "copies open only with it. Restore: locker db restore --from-copy COPY --backup-key -",
        err=True,
    )


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
    for group in layout.cold_groups:  # cooled compartments (issue 27)
        ids = ", ".join(str(c.id) for c in layout.in_group(group.id))
        typer.echo(
            f"cold group {group.id}: {group.kind.value} {group.band.text()}, "
            f"thermometer {group.sensor}, compartments {ids}"
        )
    unwatched = [str(c.id) for c in layout.compartments if c.cold and c.cold_group is None]
    if unwatched:
        typer.echo(f"cooled without a thermometer (cooled = true): {', '.join(unwatched)}")


@db_app.command("restore-key")
def db_restore_key(
    backup: Annotated[
        Path | None,
        typer.Argument(help="a backup whose key to take [the newest good backup with a key]"),
    ] = None,
    data_dir: DataDir = None,
    new: Annotated[
        bool,
        typer.Option("--new", help="no key anywhere: make a new one; live codes then fail"),
    ] = False,
) -> None:
    """Put the code key back from a backup when it is missing (the database stays as it is)."""
    settings = _settings(data_dir)
    key_path = settings.key_path
    if key_path.exists():
        typer.echo(f"not changed: the code key {key_path.resolve()} is there", err=True)
        raise typer.Exit(1)
    if new:
        load_or_create_key(key_path)
        typer.echo(
            f"made a new code key at {key_path.resolve()}: codes issued before do not open a "
            "door any more; issue new ones from the maintenance screen"
        )
        return
    if backup is None:
        found, _ = newest_good(settings.backup_path)
        backup = found.path if found is not None and found.key is not None else None
    if backup is None or not key_beside(backup).exists():
        typer.echo(
            f"not restored: no backup key found ({settings.backup_path.resolve()}); "
            "copy the key back by hand, or run with --new",
            err=True,
        )
        raise typer.Exit(1)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    copy_secret(key_beside(backup), key_path)
    typer.echo(
        f"put the key of {backup.resolve()} in place at {key_path.resolve()}; "
        "start the station again: locker serve"
    )
