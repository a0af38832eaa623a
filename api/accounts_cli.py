"""``locker staff`` and ``locker courier``: accounts from the shell of the station."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated

import typer

from locker.errors import DomainError
from locker.locks import NoDoors
from locker.people import accounts, kiosk_devices
from locker.runtime.settings import Settings
from locker.runtime.startup import open_station
from locker.station import Station
from locker.store.advice import refusal
from locker.store.check import DatabaseUnusable
from locker.types import Role

staff_app = typer.Typer(help="Staff and admin accounts.", no_args_is_help=True)
courier_app = typer.Typer(help="Courier accounts.", no_args_is_help=True)


@contextmanager
def _station() -> Iterator[Station]:
    settings = Settings()
    try:
        station = open_station(settings, NoDoors())
    except DatabaseUnusable as exc:
        typer.echo(refusal(exc, settings), err=True)
        raise typer.Exit(exc.exit_code) from exc
    try:
        yield station
    except DomainError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from exc
    finally:
        station.db.close()


@staff_app.command("add")
def staff_add(
    name: str,
    admin: Annotated[bool, typer.Option("--admin", help="may also manage accounts")] = False,
) -> None:
    """Add a staff member; prints a one-time password."""
    with _station() as station:
        made = accounts.create_account(
            station, name=name, role=Role.ADMIN if admin else Role.STAFF, actor="shell"
        )
    typer.echo(f"{made.principal.actor}: one-time password {made.password}")


@staff_app.command("password")
def staff_password(name: str) -> None:
    """Give an account a new one-time password (e.g. a forgotten admin password)."""
    with _station() as station:
        password = accounts.reset_password(station, name=name, actor="shell")
    typer.echo(f"{name}: one-time password {password}")


@courier_app.command("add")
def courier_add(
    name: str, carrier: Annotated[str, typer.Option(help="the carrier the courier works for")]
) -> None:
    """Add a courier account; prints its bearer token and a one-time password."""
    days = Settings().device_token_days
    with _station() as station:
        made = accounts.create_account(
            station,
            name=name,
            role=Role.COURIER,
            carrier=carrier,
            actor="shell",
            with_token=True,
            token_ttl=timedelta(days=days),
        )
    typer.echo(f"{made.principal.actor} ({carrier})")
    typer.echo(f"token: {made.token} (valid for {days:g} days)")
    typer.echo(f"one-time password: {made.password}")


kiosk_app = typer.Typer(help="Screens paired as the station's kiosk.", no_args_is_help=True)


@kiosk_app.command("pair")
def kiosk_pair(name: str) -> None:
    """Pair (or re-pair) a kiosk screen; prints its device token, to paste at /kiosk/pair."""
    with _station() as station:
        token = kiosk_devices.pair(station, name=name, actor="shell")
    typer.echo(f"kiosk {name}: device token {token}")
    typer.echo("Open /kiosk/pair on that screen and paste the token.")


@kiosk_app.command("list")
def kiosk_list() -> None:
    """The paired kiosks, with when each was last seen."""
    with _station() as station:
        for device in kiosk_devices.devices(station):
            seen = device.last_seen_at.isoformat() if device.last_seen_at else "never"
            typer.echo(f"{device.name}\tpaired {device.paired_at.isoformat()}\tseen {seen}")


@kiosk_app.command("unpair")
def kiosk_unpair(name: str) -> None:
    """Stop treating a screen as the kiosk (its codes count per address again)."""
    with _station() as station:
        kiosk_devices.unpair(station, name=name, actor="shell")
    typer.echo(f"kiosk {name}: unpaired")
