"""A running station: layout, simulator (when asked for), real driver, database, reconcile.

Used by ``locker serve`` and by end-to-end tests. The simulator is started only for buses
whose layout port is ``"sim"`` (or for all with ``force_sim``); the driver then opens the
simulator's pty exactly as it would open ``/dev/ttyUSB0``. Likewise the card terminal:
``LOCKER_ZVT_HOST=sim`` (the demo's) starts the ZVT terminal simulator on a free loopback
port, and the ZVT client is pointed at it as at a terminal on the LAN.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import SecretStr

from drivers.station_locks import SerialLocks
from drivers.zvt import card_terminal
from locker.layout import SIM_PORT
from locker.payments.terminal import CardTerminal
from locker.runtime.settings import ZVT_SIM, Settings
from locker.runtime.startup import check_station_database, open_station, station_layout
from locker.sensors import Thermometer
from locker.services.reconcile import Settled, reconcile
from locker.station import Station
from locker.store.station_lock import station_lock

if TYPE_CHECKING:
    from sim.station import SimStation
    from sim.zvt import TerminalSim


@dataclass
class Runtime:
    station: Station
    locks: SerialLocks
    sim: SimStation | None
    reconciled: list[Settled]
    terminal: CardTerminal | None = None  # the kiosk's card terminal (LOCKER_ZVT_HOST)
    terminal_registered: bool = False  # its registration at start worked
    zvt_sim: TerminalSim | None = None  # the simulated terminal (LOCKER_ZVT_HOST=sim)
    settings: Settings | None = None  # as running: "sim" replaced by the simulator's address
    # one per layout [[sensor]], by sensor id, read over its bus (cooled groups' watcher)
    thermometers: Mapping[str, Thermometer] = field(default_factory=dict)


@contextmanager
def running_station(
    settings: Settings,
    *,
    force_sim: bool = False,
    thermometers: Mapping[str, Thermometer] | None = None,
) -> Iterator[Runtime]:
    """Start everything, settle interrupted door operations, and stop it all on exit.

    The database is locked to this process and checked before the doors are opened: a
    damaged one raises :class:`locker.store.check.DatabaseUnusable` with nothing started and
    nothing written, another station on it :class:`locker.store.station_lock.StationBusy`.
    """
    layout = station_layout(settings)
    with ExitStack() as stack:
        stack.enter_context(station_lock(settings.database_path))
        checked = check_station_database(settings)
        sim = None
        ports: dict[str, str] = {}
        if force_sim or any(bus.port == SIM_PORT for bus in layout.buses):
            from sim.station import SimStation  # loaded only for a simulated bus

            sim = SimStation(layout, every_bus=force_sim)
            ports = stack.enter_context(sim.serve())
        locks = stack.enter_context(SerialLocks(layout, ports))
        locks.start()  # relay boards: all relays off before anything else
        if thermometers is None:  # the cold groups' thermometers by [[sensor]] id, read
            thermometers = locks.thermometers()  # over their buses (tests may give their own)
        station = open_station(settings, locks, layout, checked=checked, thermometers=thermometers)
        stack.callback(station.db.close)
        running, zvt_sim = _card_terminal_settings(settings, stack)
        terminal = card_terminal(running)
        registered = terminal.register() if terminal is not None else False
        yield Runtime(
            station,
            locks,
            sim,
            reconcile(station),
            terminal=terminal,
            terminal_registered=registered,
            zvt_sim=zvt_sim,
            settings=running,
            thermometers=thermometers,
        )


def _card_terminal_settings(
    settings: Settings, stack: ExitStack
) -> tuple[Settings, TerminalSim | None]:
    """The settings with ``zvt_host=sim`` resolved: the simulator started (with the
    configured password, or a fresh one) and its loopback address put in its place."""
    if settings.zvt_host != ZVT_SIM:
        return settings, None
    from sim.zvt import TerminalSim, serve_zvt  # loaded only for a simulated terminal

    password = settings.zvt_password.get_secret_value()
    zvt_sim = TerminalSim(password=password) if password else TerminalSim()
    port = stack.enter_context(serve_zvt(zvt_sim, "127.0.0.1", 0))
    update = {
        "zvt_host": "127.0.0.1",
        "zvt_port": port,
        "zvt_password": SecretStr(zvt_sim.password),
    }
    return settings.model_copy(update=update), zvt_sim
