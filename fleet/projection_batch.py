"""The events of one ingest batch, projected together (:mod:`fleet.ingest_batch`).

:func:`fleet.projection.project_event` applies one event with a few statements of its own;
at a few thousand events a second those round trips are the cost. :class:`Projector` takes
the events to apply in their order (``add``) and applies them at ``flush`` with a fixed
number of statements, whatever their count:

- **parcels**: the state before the batch of every parcel named, read in one query; the
  events walked in order on that (the carriers' stream sees every change of state, as one
  by one); then each parcel's last view written once (one multi-row upsert, one delete);
- **carriers**: which carriers may use the stations named, one query; their
  announcements' state written by one ``executemany`` (psycopg sends it in pipeline mode);
  the webhooks in the order of their events;
- **capacity** and **bus** set the station's row in memory (written once, at the flush of
  the batch's transaction);
- anything else (compartments, alerts) goes through ``project_event`` in its turn.

An event whose data the hub cannot read is counted (``bad_event_data``) and stays applied,
as one by one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from fleet import carrier_stream
from fleet.projection import LIVE_PARCEL_STATES, Bus, Capacity, parcel_row, project_event
from fleet.tables import (
    CarrierAccount,
    CarrierAnnouncement,
    CarrierStation,
    CarrierWebhook,
    EventRow,
    ParcelView,
    StationState,
)
from locker.uplink.messages import ParcelFacts

_LOG = logging.getLogger(__name__)
Key = tuple[str, int]  # (station, parcel id)
_VIEW_COLUMNS = [c.name for c in ParcelView.__table__.columns]  # type: ignore[attr-defined]


@dataclass
class _Item:
    state: StationState
    row: EventRow
    facts: ParcelFacts | None = None  # parcel and reminder events, once read


class Projector:
    """The events of one batch to apply, in order; written by :meth:`flush`."""

    def __init__(self, session: Session, bad: Callable[[EventRow, ValidationError], None]):
        self.session = session
        self.bad = bad  # told of an event whose data cannot be read
        self.items: list[_Item] = []

    def add(self, state: StationState, row: EventRow) -> None:
        self.items.append(_Item(state, row))

    def flush(self) -> None:
        items, self.items = self.items, []
        if not items:
            return
        for item in items:
            self._read(item)
        parcels = [i for i in items if i.row.type == "parcel" and i.facts is not None]
        now = self._before(parcels)
        allowed = self._carriers(items)
        views: dict[Key, ParcelFacts | None] = {}
        announced: dict[tuple[str, str, str], dict[str, Any]] = {}
        webhooks: list[dict[str, Any]] = []
        for item in items:
            row, facts = item.row, item.facts
            if row.type == "parcel" and facts is not None:
                key = (row.station, facts.id)
                announced[(facts.carrier, facts.tracking_number, row.station)] = {
                    "c": facts.carrier,
                    "t": facts.tracking_number,
                    "s": row.station,
                    "pid": facts.id,
                    "ps": facts.state,
                }
                if (
                    facts.state != now.get(key)
                    and facts.state in carrier_stream.STREAM
                    and (facts.carrier, row.station) in allowed
                ):
                    webhooks.append(
                        carrier_stream.webhook_values(
                            row, facts.carrier, f"parcel.{facts.state}", facts
                        )
                    )
                live = facts.state in LIVE_PARCEL_STATES
                now[key] = facts.state if live else None
                views[key] = facts if live else None
            elif row.type == "reminder" and isinstance(facts, carrier_stream.Reminder):
                if (facts.carrier, row.station) in allowed:
                    event = f"parcel.{facts.reminder}"
                    webhooks.append(carrier_stream.webhook_values(row, facts.carrier, event, facts))
            elif row.type == "capacity":
                self._capacity(item)
            elif row.type == "bus":
                self._bus(item)
            elif row.type not in ("parcel", "reminder"):
                self._one(item)
        self._write(views, list(announced.values()), webhooks)

    # -- reading ----------------------------------------------------------------------

    def _read(self, item: _Item) -> None:
        try:
            if item.row.type == "parcel":
                item.facts = ParcelFacts.model_validate(item.row.data)
            elif item.row.type == "reminder":
                item.facts = carrier_stream.Reminder.model_validate(item.row.data)
        except ValidationError as exc:
            self.bad(item.row, exc)

    def _before(self, parcels: list[_Item]) -> dict[Key, str | None]:
        """Each parcel's state in the hub's view before this batch (None: not there)."""
        keys = {(i.row.station, i.facts.id) for i in parcels if i.facts is not None}
        if not keys:
            return {}
        found = self.session.execute(
            select(ParcelView.station, ParcelView.parcel_id, ParcelView.state).where(
                sa.tuple_(col(ParcelView.station), col(ParcelView.parcel_id)).in_(sorted(keys))
            )
        ).all()
        return {(station, pid): state for station, pid, state in found}

    def _carriers(self, items: list[_Item]) -> set[tuple[str, str]]:
        """The (carrier, station) pairs of the batch where the carrier may use the station
        and has an account (who gets webhooks)."""
        pairs = {(i.facts.carrier, i.row.station) for i in items if i.facts is not None}
        if not pairs:
            return set()
        found = self.session.execute(
            select(CarrierStation.carrier, CarrierStation.station)
            .join(CarrierAccount, col(CarrierAccount.name) == col(CarrierStation.carrier))
            .where(
                sa.tuple_(col(CarrierStation.carrier), col(CarrierStation.station)).in_(
                    sorted(pairs)
                )
            )
        ).all()
        return {(carrier, station) for carrier, station in found}

    # -- applying ---------------------------------------------------------------------

    def _capacity(self, item: _Item) -> None:
        try:
            capacity = Capacity.model_validate(item.row.data)
        except ValidationError as exc:
            self.bad(item.row, exc)
            return
        item.state.free = capacity.free
        item.state.accessible_free = capacity.accessible_free

    def _bus(self, item: _Item) -> None:
        try:
            item.state.bus = Bus.model_validate(item.row.data).health
        except ValidationError as exc:
            self.bad(item.row, exc)

    def _one(self, item: _Item) -> None:
        try:
            project_event(self.session, item.state, item.row)
        except ValidationError as exc:
            self.bad(item.row, exc)

    def _write(
        self,
        views: dict[Key, ParcelFacts | None],
        announced: list[dict[str, Any]],
        webhooks: list[dict[str, Any]],
    ) -> None:
        session = self.session
        live = [
            {name: getattr(parcel_row(station, facts), name) for name in _VIEW_COLUMNS}
            for (station, _), facts in views.items()
            if facts is not None
        ]
        gone = [key for key, facts in views.items() if facts is None]
        if live:
            upsert = insert(ParcelView)
            session.execute(
                upsert.on_conflict_do_update(
                    index_elements=["station", "parcel_id"],
                    set_={name: upsert.excluded[name] for name in _VIEW_COLUMNS},
                ),
                live,
            )
        if gone:
            session.execute(
                sa.delete(ParcelView).where(
                    sa.tuple_(col(ParcelView.station), col(ParcelView.parcel_id)).in_(gone)
                )
            )
        if announced:
            table = CarrierAnnouncement.__table__  # type: ignore[attr-defined]
            session.execute(
                table.update()
                .where(
                    table.c.carrier == sa.bindparam("c"),
                    table.c.tracking_number == sa.bindparam("t"),
                    table.c.station == sa.bindparam("s"),
                )
                .values(parcel_id=sa.bindparam("pid"), parcel_state=sa.bindparam("ps")),
                announced,
            )
        for values in webhooks:  # one by one: their ids keep the order of the events
            session.execute(insert(CarrierWebhook).values(**values).on_conflict_do_nothing())
