"""The door watcher: one read of every door per tick, and what follows from it.

* a deposit whose door is seen closed again is stored (its code is issued);
* a door open longer than ``left_open_after`` raises a ``door_left_open`` alert, which
  clears itself when the door is closed.

The watcher keeps when it first saw each door open in memory; after a restart a door
that is still open starts its count again, so an alert comes late, never falsely.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from locker.alerts import clear_alerts, open_alerts, raise_alert
from locker.locks import DoorReading
from locker.services.deposit import store_closed_deposits
from locker.services.intake import Stored
from locker.station import Station
from locker.types import AlertKind, CompartmentId


@dataclass(frozen=True)
class WatchReport:
    stored: tuple[Stored, ...] = ()
    left_open: tuple[int, ...] = ()  # alerts raised this tick
    closed_again: tuple[int, ...] = ()  # alerts cleared this tick
    unread: tuple[CompartmentId, ...] = ()  # compartments whose board did not answer
    readings: Mapping[CompartmentId, DoorReading] = field(default_factory=dict)  # this tick's


@dataclass
class DoorWatch:
    station: Station
    left_open_after: timedelta = timedelta(minutes=2)
    on_stored: Callable[[Stored], None] | None = None  # gets each new code at once
    _open_since: dict[CompartmentId, datetime] = field(default_factory=dict)

    def tick(self) -> WatchReport:
        station = self.station
        readings = station.locks.read(None)
        now = station.now()
        raised: list[int] = []
        cleared: list[int] = []
        for cid, reading in readings.items():
            if reading.latched:
                self._open_since.pop(cid, None)
            else:
                self._open_since.setdefault(cid, now)
        with station.db.read() as session:
            alerted = {
                CompartmentId(a.compartment_id)
                for a in open_alerts(session)
                if a.kind is AlertKind.DOOR_LEFT_OPEN and a.compartment_id is not None
            }
        due = [
            cid
            for cid, since in self._open_since.items()
            if now - since >= self.left_open_after and cid not in alerted
        ]
        shut = [cid for cid in alerted if cid in readings and readings[cid].latched]
        if due or shut:
            with station.db.write() as session:
                for cid in due:
                    minutes = (now - self._open_since[cid]).total_seconds() / 60
                    if raise_alert(
                        session,
                        AlertKind.DOOR_LEFT_OPEN,
                        compartment_id=cid,
                        now=now,
                        detail=f"open for {minutes:.0f} min",
                    ):
                        raised.append(cid)
                for cid in shut:
                    if clear_alerts(session, AlertKind.DOOR_LEFT_OPEN, compartment_id=cid, now=now):
                        cleared.append(cid)
        stored = store_closed_deposits(station, readings, self.on_stored)
        unread = tuple(c.id for c in station.layout.compartments if c.id not in readings)
        return WatchReport(tuple(stored), tuple(raised), tuple(cleared), unread, dict(readings))
