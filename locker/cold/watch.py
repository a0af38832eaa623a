"""The cold groups' part of the door watcher's loop: read each group's thermometer (at
most every ``read_every``), keep the reading, and act when a group's status changes.

* out of band for ``Policy.cold_out_of_band_after``: a ``cold_out_of_band`` alert (staff
  by mail and webhook; the hub's fleet screen through the alert's hub event), the group
  takes no new parcels, and the recipients of the parcels inside are asked to come soon
  (else the shop takes the parcel back);
* no answer for as long: a ``cold_sensor_silent`` alert of its own, and the group takes
  no new parcels (its recipients are not told: nothing is known to be wrong with it);
* back in band (one reading is enough): its alerts clear and it takes parcels again.

A group's status is kept in ``cold_group_state``; a group never read in band since it
came into the layout takes no cold parcel yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from locker.alerts import clear_alerts, raise_alert
from locker.audit import record
from locker.cold.band import ColdStatus, Tracker
from locker.cold.groups import ColdGroup
from locker.cold.history import add_reading
from locker.cold.tables import ColdGroupState
from locker.notify.outbox import record_event
from locker.station import Station
from locker.store.tables import Parcel
from locker.types import AlertKind, ParcelState
from locker.uplink.capture import Capture, record_hub_event, refresh_capacity

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    group: str
    before: ColdStatus
    after: ColdStatus
    told: int = 0  # recipients asked to come soon


HUB_EVERY = timedelta(minutes=5)  # a group's reading goes to the hub this often at least


@dataclass
class ColdWatch:
    station: Station
    read_every: timedelta = timedelta(seconds=30)
    _trackers: dict[str, Tracker] = field(default_factory=dict)
    _last_read: datetime | None = None
    _told_hub: dict[str, datetime] = field(default_factory=dict)

    def due(self, now: datetime) -> bool:
        return self._last_read is None or now - self._last_read >= self.read_every

    def tick(self) -> list[Change]:
        """Read every group if a read is due; the status changes it caused."""
        station = self.station
        now = station.now()
        if not station.layout.cold_groups or not self.due(now):
            return []
        self._last_read = now
        readings = {g.id: self._read(g) for g in station.layout.cold_groups}
        changes: list[Change] = []
        with station.db.write() as session:
            for group in station.layout.cold_groups:
                changes += self._settle(session, group, now, readings[group.id])
            if changes:
                refresh_capacity(session, now)  # the hub routes cold parcels by it
        return changes

    def _read(self, group: ColdGroup) -> float | None:
        thermometer = self.station.thermometers.get(group.sensor)
        if thermometer is None:
            return None  # no such sensor: as silent as one that does not answer
        try:
            return thermometer.read_celsius()
        except Exception:  # a driver's bug must not stop the doors' watch
            _LOGGER.exception("thermometer %s failed", group.sensor)
            return None

    def _settle(
        self, session: Session, group: ColdGroup, now: datetime, celsius: float | None
    ) -> list[Change]:
        row = session.get(ColdGroupState, group.id)
        if row is None:
            row = ColdGroupState(group=group.id, status=ColdStatus.UNKNOWN, since=now, closed=True)
        tracker = self._trackers.get(group.id) or Tracker(
            group.band, self.station.policy.cold_out_of_band_after, ColdStatus(row.status)
        )
        tracker = tracker.feed(now, celsius)
        self._trackers[group.id] = tracker
        add_reading(session, group.id, now, celsius)
        before = ColdStatus(row.status)
        row.last_c = celsius
        if celsius is not None:
            row.last_at = now  # when it last answered
        after = tracker.status
        change: list[Change] = []
        if after is not before:
            row.status, row.since, row.closed = after, now, not after.takes_parcels
            change.append(self._changed(session, group, before, after, now, tracker))
        session.add(row)
        self._tell_hub(session, group, row, now, changed=bool(change))
        return change

    def _tell_hub(
        self,
        session: Session,
        group: ColdGroup,
        row: ColdGroupState,
        now: datetime,
        *,
        changed: bool,
    ) -> None:
        """With a hub: the group's reading on each change and every :data:`HUB_EVERY`."""
        if not isinstance(session.info.get("capture"), Capture):
            return
        told = self._told_hub.get(group.id)
        if not changed and told is not None and now - told < HUB_EVERY:
            return
        self._told_hub[group.id] = now
        facts = {
            "group": group.id,
            "kind": group.kind.value,
            "min_c": group.min_c,
            "max_c": group.max_c,
            "status": row.status,
            "celsius": row.last_c,
            "compartments": [int(c.id) for c in self.station.layout.in_group(group.id)],
        }
        record_hub_event(session, "cold", facts, now=now)

    def _changed(
        self,
        session: Session,
        group: ColdGroup,
        before: ColdStatus,
        after: ColdStatus,
        now: datetime,
        tracker: Tracker,
    ) -> Change:
        where = f"cold group {group.id} ({group.kind.value}, {group.band.text()})"
        minutes = self.station.policy.cold_out_of_band_after.total_seconds() / 60
        told = 0
        if after is ColdStatus.OK:
            for kind in (AlertKind.COLD_OUT_OF_BAND, AlertKind.COLD_SENSOR_SILENT):
                clear_alerts(session, kind, compartment_id=None, now=now, cold_group=group.id)
        elif after is ColdStatus.OUT_OF_BAND:
            silent = AlertKind.COLD_SENSOR_SILENT
            clear_alerts(session, silent, compartment_id=None, now=now, cold_group=group.id)
            last = f"{tracker.last_c:.1f} °C" if tracker.last_c is not None else "no answer"
            raise_alert(
                session,
                AlertKind.COLD_OUT_OF_BAND,
                compartment_id=None,
                cold_group=group.id,
                now=now,
                detail=f"{where}: out of its band for {minutes:.0f} min or more (now {last}); "
                "it takes no new parcels, and the recipients of the parcels inside were asked "
                "to come soon: take out what cannot wait",
            )
            told = self._tell_recipients(session, group, now)
        elif after is ColdStatus.SILENT:
            raise_alert(
                session,
                AlertKind.COLD_SENSOR_SILENT,
                compartment_id=None,
                cold_group=group.id,
                now=now,
                detail=f"{where}: its thermometer {group.sensor} has not answered for "
                f"{minutes:.0f} min or more; it takes no new parcels until it reads in band",
            )
        record(
            session,
            actor="system",
            action=f"cold.{after.value}",
            now=now,
            detail=f"{where}: {before.value} -> {after.value}",
        )
        return Change(group.id, before, after, told)

    def _tell_recipients(self, session: Session, group: ColdGroup, now: datetime) -> int:
        inside = [spec.id for spec in self.station.layout.in_group(group.id)]
        parcels = session.exec(
            select(Parcel).where(
                Parcel.state == ParcelState.STORED, col(Parcel.compartment_id).in_(inside)
            )
        ).all()
        told = 0
        for parcel in parcels:
            key = f"parcel.cold_warning:{parcel.id}:{now.isoformat()}"
            told += record_event(session, "parcel.cold_warning", now=now, parcel=parcel, key=key)
        return told
