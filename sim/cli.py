"""``locker sim``: serve a simulated bus of lock boards on a pty or a TCP port.

Usage::

    locker sim --pty --boards 2                 # or: python -m sim.cli --pty --boards 2
    locker sim --tcp 127.0.0.1:5000 --boards 4 --protocol cu12 -v
    locker sim --pty --protocol xor8a --boards 2 --channels 24 --baud 9600
    locker sim --pty --protocol modbus-relay --boards 2 --sensor 10=4.5 --baud 9600

Kerong boards sit at addresses 0..N-1, the others at 1..N; ``--sensor ADDR=°C`` adds an
XY-MD02 to a Modbus bus (repeatable).

The first line on stdout (flushed at once) says where the bus is, machine-readable::

    pty: /dev/pts/7
    tcp: socket://127.0.0.1:5000

The text after ``": "`` is what pyserial's ``serial_for_url`` (and a station layout) takes. With
``--tcp HOST:0`` the system picks a free port and the line tells which. The simulator then serves
until SIGINT or SIGTERM and exits 0. ``-v`` logs every frame in hex, both directions, to stderr.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Annotated

import typer

from sim.bus import BoardConfig
from sim.modbus_bus import ModbusSimBus
from sim.server import SimBus, serve_pty, serve_tcp

_LOGGER = logging.getLogger(__name__)


class BusProtocol(enum.StrEnum):
    """The board families the simulator speaks."""

    cu16 = "cu16"
    cu12 = "cu12"
    xor8a = "xor8a"
    modbus_relay = "modbus-relay"


def _parse_host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise typer.BadParameter("expected HOST:PORT, e.g. 127.0.0.1:5000", param_hint="--tcp")
    return host, int(port)


def _setup_logging(verbose: bool) -> None:
    logger = logging.getLogger("sim")
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT/SIGTERM while inside (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def sim(
    tcp: Annotated[
        str | None,
        typer.Option("--tcp", metavar="HOST:PORT", help="Listen on TCP, like a Kerong BU box."),
    ] = None,
    pty: Annotated[bool, typer.Option("--pty", help="Serve on a new pseudo-terminal.")] = False,
    boards: Annotated[
        int, typer.Option("--boards", min=1, help="Boards on the bus, at addresses 0..N-1.")
    ] = 1,
    protocol: Annotated[BusProtocol, typer.Option("--protocol")] = BusProtocol.cu16,
    baud: Annotated[int, typer.Option("--baud", min=1, help="Line rate, bit/s.")] = 19200,
    pulse_ms: Annotated[
        int, typer.Option("--pulse-ms", min=0, help="Unlock pulse of every board.")
    ] = 550,
    channels: Annotated[
        int, typer.Option("--channels", min=8, max=50, help="Locks per 8A/80 board.")
    ] = 8,
    sensor: Annotated[
        list[str] | None,
        typer.Option("--sensor", metavar="ADDR=C", help="An XY-MD02 on a Modbus bus."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Log every frame in hex to stderr.")
    ] = False,
) -> None:
    """Simulate one RS485 bus of lock boards until stopped (SIGINT/SIGTERM)."""
    if (tcp is None) == (not pty):
        raise typer.BadParameter("give exactly one of --tcp HOST:PORT or --pty")
    _setup_logging(verbose)
    try:
        bus = _bus(protocol, boards, baud, pulse_ms, channels, _sensors(sensor or []))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if tcp is not None:
        host, port = _parse_host_port(tcp)
        server = serve_tcp(bus, host, port)
        kind = "tcp"
    else:
        server = serve_pty(bus)
        kind = "pty"
    stop = threading.Event()
    with _stop_on_signals(stop), server as where:
        print(f"{kind}: {where}", flush=True)
        while not stop.wait(0.2):
            pass
    _LOGGER.info("simulator stopped")


def _sensors(given: list[str]) -> dict[int, float]:
    found = {}
    for item in given:
        address, sep, celsius = item.partition("=")
        try:
            found[int(address)] = float(celsius) if sep else 5.0
        except ValueError:
            raise typer.BadParameter(
                f"expected ADDR=°C, not {item!r}", param_hint="--sensor"
            ) from None
    return found


def _bus(
    protocol: BusProtocol,
    boards: int,
    baud: int,
    pulse_ms: int,
    channels: int,
    sensors: dict[int, float],
) -> SimBus:
    if protocol is BusProtocol.modbus_relay:
        shapes = {a: (8, 8) for a in range(1, boards + 1)}
        return ModbusSimBus(shapes, sensors=sensors, baud=baud, pulse_ms=pulse_ms)
    if sensors:
        raise ValueError("sensors sit on a modbus-relay bus")
    if protocol is BusProtocol.xor8a:
        addresses = range(1, boards + 1)
        config = {a: BoardConfig(locks=channels) for a in addresses}
        return SimBus(
            "xor8a", addresses, baud=baud, pulse_ms=pulse_ms, ir_sensors=False, boards=config
        )
    return SimBus(protocol=protocol.value, addresses=range(boards), baud=baud, pulse_ms=pulse_ms)


app = typer.Typer(add_completion=False, help="Simulated lock-board bus.")
app.command("sim")(sim)

if __name__ == "__main__":
    app()
