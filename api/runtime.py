"""A running station: layout, simulator (when asked for), real driver, database, reconcile.

Used by ``locker serve`` and by end-to-end tests. The simulator is started only for buses
whose layout port is ``"sim"`` (or for all with ``force_sim``); the driver then opens the
simulator's pty exactly as it would open ``/dev/ttyUSB0``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drivers.station_locks import SerialLocks
from locker.layout import SIM_PORT
from locker.runtime.settings import Settings
from locker.runtime.startup import check_station_database, open_station, station_layout
from locker.sensors import Thermometer
from locker.services.reconcile import Settled, reconcile
from locker.station import Station
from locker.store.station_lock import station_lock

if TYPE_CHECKING:
    from sim.station import SimStation


@dataclass
class Runtime:
    station: Station
    locks: SerialLocks
    sim: SimStation | None
    reconciled: list[Settled]
    # one per layout [[sensor]], by sensor id, read over its bus (cooled groups' watcher)
    thermometers: Mapping[str, Thermometer] = field(default_factory=dict)


@contextmanager
def running_station(settings: Settings, *, force_sim: bool = False) -> Iterator[Runtime]:
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
        thermometers = locks.thermometers()
        station = open_station(settings, locks, layout, checked=checked)
        stack.callback(station.db.close)
        yield Runtime(station, locks, sim, reconcile(station), thermometers)
