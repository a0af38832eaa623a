"""What the operator is told when the station refuses its database: which file, what SQLite
said, that nothing changed, the newest good backup and the exact command to restore it,
where the damaged file will be kept, and how to keep a service manager from restarting."""

from __future__ import annotations

import shlex
from pathlib import Path

from locker.runtime.settings import Settings
from locker.store.backups import Backup, newest_good
from locker.store.check import (
    EXIT_DAMAGED,
    EXIT_INCOMPATIBLE,
    DatabaseDamaged,
    DatabaseMissing,
    DatabaseTooNew,
    DatabaseUnusable,
    KeyMissing,
    NotAStationDatabase,
)

SYSTEMD_HINT = (
    f"Under systemd, RestartPreventExitStatus={EXIT_DAMAGED} {EXIT_INCOMPATIBLE} in the "
    "[Service] section stops it restarting the station until this is fixed."
)


def station_command(settings: Settings, *words: str) -> str:
    """The exact ``locker db …`` command for this station's files, to copy and paste."""
    env = []
    if settings.database is not None:
        env.append(f"LOCKER_DATABASE={shlex.quote(str(settings.database.resolve()))}")
    if settings.key_file is not None:
        env.append(f"LOCKER_KEY_FILE={shlex.quote(str(settings.key_file.resolve()))}")
    head, rest = words[:2], words[2:]
    argv = ["locker", *head, "--data-dir", str(settings.data_dir.resolve()), *rest]
    return " ".join([*env, *(shlex.quote(word) for word in argv)])


def restore_command(settings: Settings, backup: Path, *, force: bool = False) -> str:
    """The exact ``locker db restore`` for this station's files, to copy and paste."""
    return station_command(
        settings, "db", "restore", *(["--force"] if force else []), str(backup.resolve())
    )


def describe(backup: Backup) -> str:
    key = f"with its key {backup.key.name}" if backup.key else "WITHOUT a key beside it"
    return (
        f"{backup.path.resolve()} (taken {backup.taken_at:%Y-%m-%d %H:%M:%S} UTC, "
        f"revision {backup.revision}, {key})"
    )


def key_refusal(exc: KeyMissing, settings: Settings) -> str:
    """What to do when the code key is gone but live codes need it."""
    backup, _ = newest_good(settings.backup_path)
    lines = [
        f"locker: the station does not start: the code key {exc.key.resolve()} is missing, "
        f"and the database holds {exc.live} live pickup or return codes made under it. A new "
        "key would make every one of them fail at the door. Nothing was changed.",
    ]
    if backup is not None and backup.key is not None:
        lines.append(f"The newest good backup has the key beside it: {backup.key.resolve()}.")
        lines.append("Put it back (the key never changes, so any backup's key is the one):")
        lines.append(f"    {station_command(settings, 'db', 'restore-key')}")
    else:
        lines.append(
            f"No backup in {settings.backup_path.resolve()} has a key beside it. Copy the "
            f"key back to {exc.key.resolve()} from wherever it was kept."
        )
    lines.append(
        "If the key is truly lost, `locker db restore-key --new` makes a new one on purpose: "
        "the live codes then fail, and staff issue new ones from the maintenance screen."
    )
    lines.append(SYSTEMD_HINT)
    lines.append(f"(exit code {exc.exit_code})")
    return "\n".join(lines)


def refusal(exc: DatabaseUnusable, settings: Settings) -> str:
    """The message ``locker serve`` (and ``locker db check``) print before exiting."""
    if isinstance(exc, KeyMissing):
        return key_refusal(exc, settings)
    path = settings.database_path.resolve()
    if isinstance(exc, DatabaseTooNew):
        head = (
            f"The database {path} was written by a newer version of the station: "
            f"{exc.detail}. Run that newer version again, or restore a backup this "
            "version can read."
        )
    elif isinstance(exc, NotAStationDatabase):
        head = (
            f"The file {path} is not this station's database: {exc.detail}. "
            "Check LOCKER_DATABASE / LOCKER_DATA_DIR."
        )
    elif isinstance(exc, DatabaseMissing):
        away = (
            f"move {exc.left_behind.resolve()} away"
            if exc.left_behind is not None
            else "move the backups folder away"
        )
        head = (
            f"The station's data is lost: at {path} {exc.detail}. To start an empty "
            f"station on purpose instead, {away}."
        )
    else:
        head = f"The database {path} is damaged. SQLite says: {exc.detail}"
    lines = [
        f"locker: the station's database cannot be used; the station does not start. {head}",
        f"Nothing was changed: {path} is left exactly as it was."
        if path.exists()
        else "Nothing was changed.",
    ]
    backup, failed = newest_good(settings.backup_path)
    for bad, why in failed:
        lines.append(f"Skipped the backup {bad.resolve()}: {why}")
    if backup is None:
        lines.append(f"No good backup in {settings.backup_path.resolve()}.")
        if not isinstance(exc, DatabaseMissing | DatabaseTooNew):
            lines.append(
                f"Keep the file: `sqlite3 {shlex.quote(str(path))} .recover` may salvage "
                "rows from it into a new database."
            )
    else:
        lines.append(f"The newest good backup is {describe(backup)}.")
        # A file that is not damaged (a newer version's, another program's) is replaced
        # only when asked for by name.
        force = isinstance(exc, DatabaseTooNew | NotAStationDatabase)
        lines.append("To restore it, with the station stopped, run:")
        lines.append(f"    {restore_command(settings, backup.path, force=force)}")
        if path.exists():
            kept = "damaged" if isinstance(exc, DatabaseDamaged) else "replaced"
            lines.append(
                f"It keeps the current file as {path}.{kept}-<UTC time> (with its -wal and "
                "-shm), prints what it did, and then the station can start."
            )
        elif isinstance(exc, DatabaseMissing) and exc.left_behind is not None:
            lines.append(
                f"It keeps {exc.left_behind.name} as {path}.orphan-<UTC time>-wal, prints "
                "what it did, and then the station can start."
            )
        lines.append(
            "Changes made after that backup are not in it: check the compartments "
            "against the maintenance screen afterwards."
        )
    lines.append(SYSTEMD_HINT)
    lines.append(f"(exit code {exc.exit_code})")
    return "\n".join(lines)
