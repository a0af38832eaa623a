"""``locker hub …``: the fleet hub's commands (settings from ``FLEET_*``)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleet.demo_cli import demo_app
from fleet.errors import FleetError
from fleet.service_cli import service_app

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
app.add_typer(service_app, name="service")
app.add_typer(demo_app, name="demo")


def _settings() -> HubSettings:
    """The settings: environment > ``FLEET_ENV_FILE`` (e.g. the service's
    ``/etc/locker-hub/hub.env``) > ``.env`` > defaults."""
    from fleet.settings import HubSettings

    given = os.environ.get("FLEET_ENV_FILE")
    if given:
        if not Path(given).is_file():
            typer.echo(f"error: FLEET_ENV_FILE={given}: no such file", err=True)
            raise typer.Exit(code=2)
        return HubSettings(_env_file=(".env", given))
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
    if settings.station_mqtt_tls:
        typer.echo("LOCKER_MQTT_TLS=true")
    if settings.station_mqtt_ca_file:
        typer.echo(f"LOCKER_MQTT_CA_FILE={settings.station_mqtt_ca_file}")
    scheme = "mqtts" if settings.station_mqtt_tls else "mqtt"
    typer.echo(f"# the station reaches the broker at {scheme}://{host}:{port}", err=True)
    _let_in(settings, creds.name, creds.broker_password)


def _let_in(settings: HubSettings, name: str, password: str) -> None:
    """Tell the broker about a new station: through its control topic when it runs (the
    station may connect at once), else in the files of ours it will start on."""
    from fleet import broker, dynsec

    hub_password = settings.mqtt_password.get_secret_value()
    folder = _broker_folder(settings)
    if hub_password:
        try:
            with dynsec.BrokerControl(
                settings.mqtt_host, settings.mqtt_port, settings.mqtt_user, hub_password
            ) as control:
                control.add_station(name, password)
        except dynsec.BrokerUnreachable as exc:
            if not (folder / "mosquitto.conf").exists():
                typer.echo(f"# the broker was not told ({exc}): run it, then", err=True)
                typer.echo(f"#   locker hub broker-config, or add {name} again", err=True)
                return
        except broker.BrokerConfigError as exc:
            typer.echo(f"error: broker_refused: {exc}", err=True)
            raise typer.Exit(code=4) from None
        else:
            typer.echo(f"# the broker lets {name} in now (dynamic security)", err=True)
            return
    if (folder / "mosquitto.conf").exists():  # our files, no broker on them: written again
        _broker_config(settings, folder)
        typer.echo(f"# the broker's files in {folder} let {name} in when it starts", err=True)
    else:
        typer.echo("# then write the broker's configuration: locker hub broker-config", err=True)


def _broker_folder(settings: HubSettings) -> Path:
    return settings.data_dir / "broker"


def _broker_config(
    settings: HubSettings,
    folder: Path,
    *,
    port: int | None = None,
    bind: str = "127.0.0.1",
    owner: str | None = None,
) -> None:
    from fleet import broker, dynsec, registry

    password = settings.mqtt_password.get_secret_value()
    if not password:
        typer.echo("error: FLEET_MQTT_PASSWORD (the hub's broker password) is not set", err=True)
        raise typer.Exit(code=2)
    db = _database(settings)
    try:
        users = [broker.BrokerUser(name, hashed) for name, hashed in registry.stations(db)]
    finally:
        db.close()
    try:
        files, pid = dynsec.apply_broker_config(
            folder, users, password, port=port or settings.mqtt_port, bind=bind, owner=owner
        )
    except broker.BrokerConfigError as exc:
        typer.echo(f"error: broker_config: {exc}", err=True)
        raise typer.Exit(code=4) from None
    running = f"; broker {pid} runs on them (changed through its control topic)" if pid else ""
    typer.echo(f"{files.conf}: {len(users)} station(s) and the hub{running}")


@app.command("broker-config")
def broker_config(
    out: Annotated[
        Path | None, typer.Option(help="where the files go [<FLEET_DATA_DIR>/broker]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="the broker's port [FLEET_MQTT_PORT]")] = None,
    bind: Annotated[str, typer.Option(help="the address it listens on")] = "127.0.0.1",
    owner: Annotated[
        str | None, typer.Option(help="as root: the user the broker runs as, e.g. mosquitto")
    ] = None,
) -> None:
    """Write Mosquitto's configuration from the registry: the dynamic-security plugin with a
    user and a role per station (its own topics only, SUBSCRIBE checked too) and the hub's
    user. Run it with `mosquitto -c <out>/mosquitto.conf`; once it runs, `station add` lets
    new stations in through its control topic, without a restart."""
    settings = _settings()
    _broker_config(settings, out or _broker_folder(settings), port=port, bind=bind, owner=owner)


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


# -- carriers (issue 18) ----------------------------------------------------------------

carrier_app = typer.Typer(
    help="Carrier accounts: announcements and webhooks.", no_args_is_help=True
)
app.add_typer(carrier_app, name="carrier")


@carrier_app.command("add")
def carrier_add(
    name: Annotated[str, typer.Argument(help="the carrier's name, as on its parcels")],
    stations: Annotated[
        list[str], typer.Option("--stations", help="stations it may use: a,b or repeated")
    ],
    webhook: Annotated[str, typer.Option(help="where its parcels' webhooks go")] = "",
) -> None:
    """Create a carrier account; prints its bearer token and webhook signing key, once."""
    from fleet import carriers
    from locker.notify.webhook_guard import WebhookGuard, WebhookUrlForbidden, allow_list

    settings = _settings()
    names = [part.strip() for item in stations for part in item.split(",") if part.strip()]
    if webhook:
        try:
            WebhookGuard(allow_list(settings.webhook_allow_hosts)).check_url(webhook)
        except WebhookUrlForbidden as exc:
            typer.echo(f"error: {exc.code}: {exc.message} (FLEET_WEBHOOK_ALLOW_HOSTS)", err=True)
            raise typer.Exit(code=1) from None
    db = _database(settings)
    try:
        creds = carriers.add_carrier(db, name, names, webhook, datetime.now(UTC))
    except FleetError as exc:
        raise _fail(exc) from None
    finally:
        db.close()
    typer.echo(f"carrier {creds.name} may use: {', '.join(creds.stations)}")
    typer.echo(f"token: {creds.token}")
    typer.echo(f"webhook signing key: {creds.signing_key}")


@station_app.command("place")
def station_place(
    name: str,
    address: Annotated[str | None, typer.Option(help="shown to carriers")] = None,
    hours: Annotated[str | None, typer.Option(help="opening hours, shown to carriers")] = None,
    postcode: Annotated[str | None, typer.Option(help="for routing by postcode")] = None,
    lat: Annotated[float | None, typer.Option(help="latitude, for routing by distance")] = None,
    lon: Annotated[float | None, typer.Option(help="longitude")] = None,
) -> None:
    """Set where a station is and when it opens (what carriers are told and routed by)."""
    from fleet import carriers

    db = _database(_settings())
    try:
        carriers.set_place(
            db,
            name,
            address=address,
            opening_hours=hours,
            postcode=postcode,
            latitude=lat,
            longitude=lon,
        )
    except FleetError as exc:
        raise _fail(exc) from None
    finally:
        db.close()
    typer.echo(f"station {name}: place set")


@app.command("worker")
def worker(
    index: Annotated[
        int, typer.Option(help="its client id is <prefix>-<index>; 0 … FLEET_WORKERS−1")
    ] = 0,
) -> None:
    """Run one MQTT worker (no HTTP) until stopped."""
    from fleet import partitions
    from fleet.worker import Worker

    _logging()
    settings = _settings()
    try:
        partitions.share(index, settings.workers)
    except ValueError as exc:  # before any connection: say which setting to change
        raise typer.BadParameter(f"{exc} (FLEET_WORKERS={settings.workers})") from None
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
    spawn: Annotated[
        bool,
        typer.Option(
            help="start workers 1…N−1 as child processes; --no-spawn when systemd runs them "
            "(locker-hub-worker@.service)"
        ),
    ] = True,
) -> None:
    """Serve the HTTP API and MQTT workers (the schema is upgraded first)."""
    import uvicorn

    from fleet.app import create_app
    from fleet.worker import Worker

    _logging()
    settings = _settings()
    db = _database(settings)
    settings = settings.model_copy(update={"workers": workers})
    first = Worker(db, settings, index=0)
    first.start()
    env = {**os.environ, "FLEET_WORKERS": str(workers)}
    others = [
        subprocess.Popen(  # noqa: S603 - our own hub's command
            [sys.executable, "-m", "fleet.cli", "worker", "--index", str(i)], env=env
        )
        for i in range(1, workers if spawn else 1)
    ]
    _stop_on_signals()
    try:
        uvicorn.run(
            create_app(db, settings, first.publish),
            host=settings.http_host,
            port=settings.http_port,
            ssl_certfile=settings.http_tls_cert_file,
            ssl_keyfile=settings.http_tls_key_file,
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=settings.trusted_proxies or None,
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
