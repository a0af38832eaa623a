"""``locker hub …``: the fleet hub's commands (settings from ``FLEET_*``)."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from fleet.errors import FleetError

if TYPE_CHECKING:
    from fleet.db import HubDatabase
    from fleet.settings import HubSettings

# Only typer at import: `locker` loads this app for every command, the hub's own modules
# (the database, argon2, paho, uvicorn) are loaded by the hub's commands when they run.
ROLES = ("operator", "admin")

app = typer.Typer(help="The fleet hub: stations report to it over MQTT.", no_args_is_help=True)
db_app = typer.Typer(help="The hub's PostgreSQL schema.", no_args_is_help=True)
station_app = typer.Typer(help="The station registry.", no_args_is_help=True)
account_app = typer.Typer(help="Operator accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(station_app, name="station")
app.add_typer(account_app, name="account")


def _settings() -> HubSettings:
    from fleet.settings import HubSettings

    return HubSettings()


def _database(settings: HubSettings) -> HubDatabase:
    """The hub's database, upgraded to the newest schema (or a clear refusal)."""
    from sqlalchemy.exc import OperationalError

    from fleet.db import HubDatabase

    db = HubDatabase(settings.database_url.get_secret_value())
    try:
        db.upgrade()
    except OperationalError as exc:
        db.close()
        typer.echo(f"error: database_unreachable: {exc.orig}", err=True)
        raise typer.Exit(code=3) from None
    return db


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _fail(exc: FleetError) -> typer.Exit:
    typer.echo(f"error: {exc.code}: {exc.message}", err=True)
    return typer.Exit(code=1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the hub's schema to the newest migration."""
    db = _database(_settings())
    try:
        typer.echo(f"hub schema at {db.current_revision()}")
    finally:
        db.close()


@station_app.command("add")
def station_add(name: str) -> None:
    """Register a station and print its settings (the password and key are shown once)."""
    from fleet import registry

    settings = _settings()
    db = _database(settings)
    try:
        creds = registry.add_station(db, name, datetime.now(UTC))
    except FleetError as exc:
        raise _fail(exc) from None
    finally:
        db.close()
    host = settings.station_mqtt_host or settings.mqtt_host
    port = settings.station_mqtt_port or settings.mqtt_port
    typer.echo(f"LOCKER_HUB_STATION={creds.name}")
    typer.echo(f"LOCKER_MQTT_HOST={host}")
    typer.echo(f"LOCKER_MQTT_PORT={port}")
    typer.echo(f"LOCKER_MQTT_USER={creds.broker_user}")
    typer.echo(f"LOCKER_MQTT_PASSWORD={creds.broker_password}")
    typer.echo(f"LOCKER_HUB_COMMAND_KEY={creds.command_key}")
    typer.echo(
        "# then regenerate the broker's password and ACL files: locker hub broker-config", err=True
    )


@account_app.command("add")
def account_add(
    name: str,
    role: Annotated[str, typer.Option(help="operator or admin")] = "operator",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create an operator account."""
    if role not in ROLES:
        typer.echo(f"error: no role {role!r}: {', '.join(ROLES)}", err=True)
        raise typer.Exit(code=2)
    from fleet import accounts
    from fleet.accounts import HubRole

    db = _database(_settings())
    try:
        hub_role: HubRole = "admin" if role == "admin" else "operator"
        accounts.add_operator(db, name, password, hub_role, datetime.now(UTC))
    except FleetError as exc:
        raise _fail(exc) from None
    finally:
        db.close()
    typer.echo(f"account {name} ({role}) added")


@app.command("worker")
def worker(
    index: Annotated[int, typer.Option(help="its client id is <prefix>-<index>")] = 0,
) -> None:
    """Run one MQTT worker (no HTTP) until stopped."""
    from fleet.worker import Worker

    _logging()
    settings = _settings()
    db = _database(settings)
    w = Worker(db, settings, index=index)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    w.start()
    try:
        stop.wait()
    finally:
        w.stop()
        db.close()


class _Stopped(BaseException):
    """SIGTERM or Ctrl-C: stop the workers, then leave."""


def _stop_on_signals() -> None:
    """Uvicorn shuts down gracefully on a signal, then raises it again for the handler it
    found before it: this one, so the workers are stopped and the process ends cleanly."""

    def stop(_signum: int, _frame: object) -> None:
        raise _Stopped

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


@app.command("serve")
def serve(
    workers: Annotated[
        int, typer.Option(min=1, help="MQTT workers, the first in this process")
    ] = 1,
) -> None:
    """Serve the HTTP API and MQTT workers (the schema is upgraded first)."""
    import uvicorn

    from fleet.app import create_app
    from fleet.worker import Worker

    _logging()
    settings = _settings()
    db = _database(settings)
    first = Worker(db, settings, index=0)
    first.start()
    others = [
        subprocess.Popen([sys.executable, "-m", "fleet.cli", "worker", "--index", str(i)])  # noqa: S603
        for i in range(1, workers)
    ]
    _stop_on_signals()
    try:
        uvicorn.run(
            create_app(db, settings, first.publish),
            host=settings.http_host,
            port=settings.http_port,
        )
    except _Stopped:
        pass
    finally:
        for process in others:
            process.terminate()
        for process in others:
            process.wait(timeout=15)
        first.stop()
        db.close()


if __name__ == "__main__":
    app()
