"""``locker hub service …``: the hub as systemd services (:mod:`fleet.service`). Only typer
at import, as :mod:`fleet.cli`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from fleet.service_units import HubService as HubServiceType

service_app = typer.Typer(
    help="The hub as systemd services: its API, its workers, Debian's mosquitto and PostgreSQL.",
    no_args_is_help=True,
)

Root = Annotated[
    Path | None,
    typer.Option(help="write everything under this folder, enable nothing (a test, a look)"),
]
DataDir = Annotated[Path, typer.Option(help="the hub's data (its broker's files too)")]
ConfigDir = Annotated[Path, typer.Option(help="its settings (hub.env) and certificates")]


def _service(root: Path | None, **given: object) -> HubServiceType:
    from fleet.service_units import HubService, ServiceError

    try:
        return HubService(root=root.resolve() if root else None, **given)  # type: ignore[arg-type]
    except ServiceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None


@service_app.command("install")
def service_install(
    root: Root = None,
    workers: Annotated[int, typer.Option(help="MQTT workers (0 in the API's process)")] = 1,
    data_dir: DataDir = Path("/var/lib/locker-hub"),
    config_dir: ConfigDir = Path("/etc/locker-hub"),
    user: Annotated[str, typer.Option(help="the system user the hub runs as")] = "locker-hub",
    name: Annotated[
        list[str] | None,
        typer.Option(
            "--name",
            help="the hub's host name (or address) stations and operators use; repeat for "
            "more; the first is what `station add` prints [this machine's name]",
        ),
    ] = None,
    http_host: Annotated[str, typer.Option(help="the HTTPS API's address")] = "0.0.0.0",  # noqa: S104
    http_port: Annotated[int, typer.Option(help="the HTTPS API's port")] = 8443,
    mqtt_port: Annotated[
        int, typer.Option(envvar="FLEET_MQTT_PORT", help="the broker's plain port, on 127.0.0.1")
    ] = 1883,
    tls_port: Annotated[int, typer.Option(help="the broker's TLS port, for stations")] = 8883,
    tls_cert: Annotated[
        Path | None, typer.Option(help="a certificate chain (PEM) for the names, e.g. ACME's")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="its key (PEM)")] = None,
    database_url: Annotated[
        str,
        typer.Option(
            envvar="FLEET_DATABASE_URL",
            help="another PostgreSQL [Debian's, on this machine, over its socket]",
        ),
    ] = "",
    enable: Annotated[bool, typer.Option(help="enable and start the units")] = True,
) -> None:
    """Write the hub's systemd units, settings, certificates and broker configuration; as
    root also make its user, PostgreSQL role and database, and start it all."""
    import socket

    from fleet import service
    from fleet.broker import BrokerConfigError
    from fleet.service_units import ServiceError

    plan = _service(
        root,
        workers=workers,
        data_dir=data_dir,
        config_dir=config_dir,
        user=user,
        names=tuple(name or [socket.getfqdn()]),
        http_host=http_host,
        http_port=http_port,
        mqtt_port=mqtt_port,
        tls_port=tls_port,
        tls_cert=tls_cert,
        tls_key=tls_key,
        database_url=database_url,
    )
    try:
        written = service.install(plan, enable=enable, say=typer.echo)
    except (ServiceError, BrokerConfigError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    for path in written:
        typer.echo(f"wrote {path}")
    ca = plan.path(plan.tls_dir / "ca.pem")
    if tls_cert is None:
        typer.echo(f"stations trust {ca} (LOCKER_MQTT_CA_FILE)")


@service_app.command("uninstall")
def service_uninstall(
    root: Root = None,
    data_dir: DataDir = Path("/var/lib/locker-hub"),
    config_dir: ConfigDir = Path("/etc/locker-hub"),
) -> None:
    """Stop the hub's units and remove them; its data, settings and database stay."""
    from fleet import service
    from fleet.service_units import ServiceError

    plan = _service(root, data_dir=data_dir, config_dir=config_dir, names=("localhost",))
    try:
        removed = service.uninstall(plan, say=typer.echo)
    except ServiceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    for path in removed:
        typer.echo(f"removed {path}")


@service_app.command("status")
def service_status(
    root: Root = None,
    config_dir: ConfigDir = Path("/etc/locker-hub"),
) -> None:
    """One line per unit of the hub: 'unit state' (systemd's active and enabled states)."""
    from fleet import service

    plan = _service(root, config_dir=config_dir, names=("localhost",))
    settings = service.read_settings(plan.path(plan.env_file))
    plan = _service(
        root,
        config_dir=config_dir,
        names=("localhost",),
        workers=int(settings.get("FLEET_WORKERS", "1")),
    )
    for unit, state in service.status(plan):
        typer.echo(f"{unit} {state}")
