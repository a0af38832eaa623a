"""The events of one ingest batch, projected together (:mod:`fleet.ingest_batch`).

:func:`fleet.projection.project_event` applies one event with a few statements of its own;
at a few thousand events a second those round trips (and the ORM objects) are the cost.
:class:`Projector` takes the events to apply in their order (``add``) and applies them at
``flush`` with a fixed number of statements, whatever their count, each one statement
over a JSON array of rows (:mod:`fleet.sql_rows`): a batch of 500 events costs a handful
of round trips:

- **parcels**: the state (and when it was paid) before the batch of every parcel named,
  read in one query; the events walked in order on that (the carriers' stream sees every
  change of state, as one by one); then each parcel's last view written once (one upsert,
  one delete). A ``paid`` event sets the view's ``paid_at`` if the parcel is at the
  station, and a known ``paid_at`` is kept when a later event of the parcel comes (as
  :func:`fleet.projection.project_event`); a paid parcel whose view the batch does not
  otherwise write has its ``paid_at`` set by one ``UPDATE``;
- **carriers**: which carriers may use the stations named, one query; their
  announcements' state (and since when, the event that made it) in one
  ``UPDATE … FROM json_to_recordset(…)``; the webhooks in the
  order of their events (``parcel.paid`` with its ``payment`` part among them);
- **capacity** (with ``cold_free``) and **bus** set the station's row in memory (written
  once, at the flush of the batch's transaction);
- anything else (compartments, alerts) goes through ``project_event`` in its turn.

An event whose data the hub cannot read is counted (``bad_event_data``) and stays applied,
as one by one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from fleet import carrier_stream
from fleet.projection import LIVE_PARCEL_STATES, Bus, Capacity, project_event
from fleet.sql_rows import rows_json
from fleet.station_progress import Progress
from fleet.tables import CarrierWebhook, EventRow, StationState
from locker.uplink.messages import ParcelFacts

_LOG = logging.getLogger(__name__)
Key = tuple[str, int]  # (station, parcel id)
_PARCELS = ("parcel", "reminder", "paid")  # the events the projector applies itself

_BEFORE = sa.text(
    "SELECT p.station, p.parcel_id, p.state, p.paid_at FROM parcels p JOIN json_to_recordset("
    "CAST(:rows AS json)) AS u(s text, p bigint) ON p.station = u.s AND p.parcel_id = u.p"
)
_CARRIERS = sa.text(
    "SELECT cs.carrier, cs.station FROM carrier_stations cs JOIN carriers c ON c.name = cs.carrier"
    " JOIN json_to_recordset(CAST(:rows AS json)) AS u(c text, s text)"
    " ON cs.carrier = u.c AND cs.station = u.s"
)
_UPSERT = sa.text(
    "INSERT INTO parcels (station, parcel_id, tracking_number, carrier, state, size,"
    " compartment_id, deadline, accessible, amount_due, paid_at)"
    " SELECT s, p, tn, c, st, sz, cid, dl, acc, ad, pa"
    " FROM json_to_recordset(CAST(:rows AS json)) AS u(s text, p bigint, tn text, c text,"
    " st text, sz text, cid bigint, dl timestamptz, acc boolean, ad bigint, pa timestamptz)"
    " ON CONFLICT (station, parcel_id) DO UPDATE SET"
    " tracking_number = excluded.tracking_number, carrier = excluded.carrier,"
    " state = excluded.state, size = excluded.size, compartment_id = excluded.compartment_id,"
    " deadline = excluded.deadline, accessible = excluded.accessible,"
    " amount_due = excluded.amount_due, paid_at = excluded.paid_at"
)
_PAID = sa.text(
    "UPDATE parcels p SET paid_at = u.pa FROM json_to_recordset(CAST(:rows AS json))"
    " AS u(s text, p bigint, pa timestamptz) WHERE p.station = u.s AND p.parcel_id = u.p"
)
_DELETE = sa.text(
    "DELETE FROM parcels p USING json_to_recordset(CAST(:rows AS json)) AS u(s text, p bigint)"
    " WHERE p.station = u.s AND p.parcel_id = u.p"
)
_ANNOUNCED = sa.text(
    "UPDATE carrier_announcements a SET parcel_id = u.p, parcel_state = u.st, parcel_since ="
    " CASE WHEN a.parcel_state IS DISTINCT FROM u.st THEN u.at ELSE a.parcel_since END FROM"
    " json_to_recordset(CAST(:rows AS json))"
    " AS u(c text, tn text, s text, p bigint, st text, at timestamptz)"
    " WHERE a.carrier = u.c AND a.tracking_number = u.tn AND a.station = u.s"
)


@dataclass(frozen=True)
class Applied:
    """An event to apply, with the columns of its row (an ORM row costs more to make than
    the event costs to apply)."""

    station: str
    seq: int
    event_id: str
    type: str
    data: dict[str, Any]
    at: datetime
    received_at: datetime

    def row(self) -> EventRow:
        return EventRow(
            station=self.station,
            seq=self.seq,
            event_id=self.event_id,
            type=self.type,
            data=self.data,
            at=self.at,
            received_at=self.received_at,
        )


@dataclass
class _Item:
    state: Progress
    row: EventRow | Applied
    facts: ParcelFacts | None = None  # parcel, reminder and paid events, once read


class Projector:
    """The events of one batch to apply, in order; written by :meth:`flush`."""

    def __init__(
        self,
        session: Session,
        bad: Callable[[EventRow | Applied, ValidationError], None],
        orm: Callable[[Progress], StationState],
    ):
        self.session = session
        self.bad = bad  # told of an event whose data cannot be read
        self.orm = orm  # the station's ORM row, for project_event
        self.items: list[_Item] = []

    def add(self, state: Progress, row: EventRow | Applied) -> None:
        self.items.append(_Item(state, row))

    def flush(self) -> None:
        items, self.items = self.items, []
        if not items:
            return
        for item in items:
            self._read(item)
        parcels = [i for i in items if i.row.type in _PARCELS and i.facts is not None]
        now, paid_at = self._before(parcels)
        allowed = self._carriers(items)
        views: dict[Key, ParcelFacts | None] = {}
        announced: dict[tuple[str, str, str], tuple[ParcelFacts, datetime]] = {}
        webhooks: list[dict[str, Any]] = []
        paid: set[Key] = set()  # views a paid event changed
        for item in items:
            row, facts = item.row, item.facts
            if row.type == "parcel" and facts is not None:
                key = (row.station, facts.id)
                told = (facts.carrier, facts.tracking_number, row.station)
                seen = announced.get(told)  # since: the event that made its last state
                same = seen is not None and seen[0].state == facts.state
                announced[told] = (facts, seen[1] if seen is not None and same else row.at)
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
                if not live:
                    paid_at.pop(key, None)
                elif now.get(key) is None:  # a new view: as the event has it
                    paid_at[key] = facts.paid_at
                now[key] = facts.state if live else None
                views[key] = facts if live else None
            elif row.type == "reminder" and isinstance(facts, carrier_stream.Reminder):
                if (facts.carrier, row.station) in allowed:
                    event = f"parcel.{facts.reminder}"
                    webhooks.append(carrier_stream.webhook_values(row, facts.carrier, event, facts))
            elif row.type == "paid" and isinstance(facts, carrier_stream.Paid):
                if (facts.carrier, row.station) in allowed:
                    payment = carrier_stream.payment_of(facts)
                    webhooks.append(
                        carrier_stream.webhook_values(
                            row, facts.carrier, "parcel.paid", facts, payment
                        )
                    )
                key = (row.station, facts.id)
                if now.get(key) is not None:  # at the station: its view learns it
                    paid_at[key] = facts.paid_at or row.at
                    paid.add(key)
            elif row.type == "capacity":
                self._capacity(item)
            elif row.type == "bus":
                self._bus(item)
            elif row.type not in _PARCELS:
                self._one(item)
        self._write(views, paid_at, paid, announced, webhooks)

    # -- reading ----------------------------------------------------------------------

    def _read(self, item: _Item) -> None:
        try:
            if item.row.type == "parcel":
                item.facts = ParcelFacts.model_validate(item.row.data)
            elif item.row.type == "reminder":
                item.facts = carrier_stream.Reminder.model_validate(item.row.data)
            elif item.row.type == "paid":
                item.facts = carrier_stream.Paid.model_validate(item.row.data)
        except ValidationError as exc:
            self.bad(item.row, exc)

    def _before(
        self, parcels: list[_Item]
    ) -> tuple[dict[Key, str | None], dict[Key, datetime | None]]:
        """Each parcel's state in the hub's view before this batch (None: not there), and
        when the view has it paid."""
        keys = sorted({(i.row.station, i.facts.id) for i in parcels if i.facts is not None})
        if not keys:
            return {}, {}
        rows = rows_json({"s": station, "p": pid} for station, pid in keys)
        found = self.session.execute(_BEFORE, {"rows": rows}).all()
        states = {(station, int(pid)): state for station, pid, state, _ in found}
        return states, {(station, int(pid)): at for station, pid, _, at in found}

    def _carriers(self, items: list[_Item]) -> set[tuple[str, str]]:
        """The (carrier, station) pairs of the batch where the carrier may use the station
        and has an account (who gets webhooks)."""
        pairs = sorted({(i.facts.carrier, i.row.station) for i in items if i.facts is not None})
        if not pairs:
            return set()
        rows = rows_json({"c": carrier, "s": station} for carrier, station in pairs)
        found = self.session.execute(_CARRIERS, {"rows": rows}).all()
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
        item.state.cold_free = capacity.cold_free

    def _bus(self, item: _Item) -> None:
        try:
            item.state.bus = Bus.model_validate(item.row.data).health
        except ValidationError as exc:
            self.bad(item.row, exc)

    def _one(self, item: _Item) -> None:
        try:
            row = item.row
            orm = self.orm(item.state)
            project_event(self.session, orm, row if isinstance(row, EventRow) else row.row())
        except ValidationError as exc:
            self.bad(item.row, exc)

    def _write(
        self,
        views: dict[Key, ParcelFacts | None],
        paid_at: dict[Key, datetime | None],
        paid: set[Key],
        announced: dict[tuple[str, str, str], tuple[ParcelFacts, datetime]],
        webhooks: list[dict[str, Any]],
    ) -> None:
        execute = self.session.execute
        live = [(key, facts) for key, facts in views.items() if facts is not None]
        gone = [key for key, facts in views.items() if facts is None]
        if live:
            rows = (
                {
                    "s": key[0],
                    "p": f.id,
                    "tn": f.tracking_number,
                    "c": f.carrier,
                    "st": f.state,
                    "sz": f.size,
                    "cid": f.compartment_id,
                    "dl": f.deadline,
                    "acc": f.accessible,
                    "ad": f.amount_due,
                    "pa": paid_at.get(key),
                }
                for key, f in live
            )
            execute(_UPSERT, {"rows": rows_json(rows)})
        paid_only = sorted(key for key in paid if key not in views)  # not written above
        if paid_only:
            rows = ({"s": s, "p": p, "pa": paid_at[(s, p)]} for s, p in paid_only)
            execute(_PAID, {"rows": rows_json(rows)})
        if gone:
            execute(_DELETE, {"rows": rows_json({"s": s, "p": p} for s, p in gone)})
        if announced:
            rows = (
                {"c": c, "tn": tn, "s": s, "p": f.id, "st": f.state, "at": at}
                for (c, tn, s), (f, at) in announced.items()
            )
            execute(_ANNOUNCED, {"rows": rows_json(rows)})
        for values in webhooks:  # one by one: their ids keep the order of the events
            execute(insert(CarrierWebhook).values(**values).on_conflict_do_nothing())
