"""What the stations send, into the hub's database: exactly once, in each station's order.

``Ingest(db).handle(topic, payload, now)`` runs one transaction per message and returns
the commands to publish once it has committed (a ``resend`` when events are missing).

- ``evt``: stored with ``INSERT … ON CONFLICT DO NOTHING`` (UNIQUE (station, seq) and
  UNIQUE (event id)), so a message delivered twice changes nothing. Its effect on the
  views is applied only when it is new and every event before it is in: the station's
  ``contiguous_seq`` says up to where. An event beyond a gap is stored and waits; the
  gap is asked for again (a signed ``resend`` from the first missing seq), at most once
  per ``resend_every`` for the same gap, and only once it has been open for
  ``gap_grace``: with several workers, a station's events often arrive a little out of
  order (each worker takes every other one), and asking at once would have the station
  send its stream again and again. :meth:`Ingest.sweep` asks for the gaps still open.
- ``state``: the station's presence; a birth that says it has written events the hub
  has not applied asks for them, and the commands it has not answered go to it again.
- ``snap``: replaces the station's views, and everything up to its ``last_seq`` counts
  as applied (stored events after it are applied on top).
- ``res``: a command's answer (the first one counts).

Every message of a station takes its ``station_state`` row ``FOR UPDATE`` first, so
several workers never interleave one station's messages. A bad payload (not JSON,
wrong schema, unknown topic or station, a payload naming another station than its
topic, data PostgreSQL refuses such as a NUL character) is logged, counted by reason (in
memory and in ``ingest_dropped``) and dropped; it never stops the worker. A database
failure is raised: the worker then does not acknowledge the message and it comes again.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import ValidationError
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DataError
from sqlmodel import Session, col, select

from fleet import commands, registry
from fleet.db import HubDatabase
from fleet.errors import BadPayload
from fleet.event_order import contiguous, event_row
from fleet.offline_alerts import OFFLINE_ALERT, raise_offline_alerts
from fleet.payloads import parse_payload
from fleet.projection import LIVE_PARCEL_STATES, parcel_row, project_event
from fleet.tables import (
    AlertView,
    CommandRow,
    CompartmentView,
    DroppedCount,
    EventRow,
    ParcelView,
    StationState,
)
from locker.uplink.messages import (
    Command,
    CommandResult,
    Event,
    Presence,
    Snapshot,
    station_of,
)

_LOG = logging.getLogger(__name__)
_BATCH = 500
REPUBLISH_WITHIN = timedelta(days=7)  # unanswered commands older than this are not sent again


class Gaps(Protocol):
    """What the gap's bookkeeping reads and writes of a station (its ``station_state``)."""

    station: str
    contiguous_seq: int
    station_last_seq: int
    gap_from: int | None
    gap_seen_at: datetime | None
    resend_from: int | None
    resend_asked_at: datetime | None


class Ingest:
    def __init__(
        self,
        db: HubDatabase,
        *,
        resend_every: timedelta = timedelta(seconds=5),
        gap_grace: timedelta = timedelta(0),
        offline_alert_after: timedelta = timedelta(minutes=10),
    ) -> None:
        self.db = db
        self.offline_alert_after = offline_alert_after
        self.resend_every = resend_every
        self.gap_grace = gap_grace
        self.dropped: Counter[str] = Counter()  # this process's drops, by reason

    def handle(self, topic: str, payload: bytes, now: datetime) -> list[Command]:
        try:
            return self._handle(topic, payload, now)
        except BadPayload as exc:
            self.drop(exc.reason, topic, exc.message)
            return []
        except DataError as exc:  # e.g. a NUL in a string: JSONB cannot hold it, ever
            self.drop("unstorable", topic, str(exc.orig))
            return []

    def sweep(self, now: datetime) -> list[Command]:
        """Ask again for gaps that are still open (a lost ``resend``, a quiet station)."""
        out: list[Command] = []
        with self.db.transaction() as session:
            waiting = session.exec(
                select(StationState)
                .where(col(StationState.station_last_seq) > col(StationState.contiguous_seq))
                .with_for_update(skip_locked=True)
            ).all()
            for state in waiting:
                out.extend(self._resend(session, state, now))
        self.raise_offline_alerts(now)
        return out

    def raise_offline_alerts(self, now: datetime) -> int:
        """See :func:`fleet.offline_alerts.raise_offline_alerts`."""
        return raise_offline_alerts(self.db, now, self.offline_alert_after)

    # -- one message ------------------------------------------------------------------

    def _handle(self, topic: str, payload: bytes, now: datetime) -> list[Command]:
        try:
            station, kind = station_of(topic)
        except ValueError as exc:
            raise BadPayload("unknown_topic", str(exc)) from None
        if kind == "evt":
            event = parse_payload(Event, payload, station)
            with self.db.transaction() as session:
                return self._event(session, self._lock(session, station), event, now)
        if kind == "state":
            presence = parse_payload(Presence, payload, station)
            with self.db.transaction() as session:
                return self._presence(session, self._lock(session, station), presence, now)
        if kind == "snap":
            snapshot = parse_payload(Snapshot, payload, station)
            with self.db.transaction() as session:
                return self._snapshot(session, self._lock(session, station), snapshot, now)
        if kind == "res":
            result = parse_payload(CommandResult, payload, station)
            with self.db.transaction() as session:
                self._result(session, self._lock(session, station), result, now)
            return []
        raise BadPayload("unknown_topic", f"the hub takes no {kind!r} messages")

    def _lock(self, session: Session, station: str) -> StationState:
        state = session.exec(
            select(StationState).where(StationState.station == station).with_for_update()
        ).first()
        if state is None:
            raise BadPayload("unknown_station", f"station {station!r} is not registered")
        return state

    def _event(
        self, session: Session, state: StationState, event: Event, now: datetime
    ) -> list[Command]:
        stored = session.execute(
            insert(EventRow)
            .values(
                station=event.station,
                seq=event.seq,
                event_id=event.id,
                type=event.type,
                data=event.data,
                at=event.at,
                received_at=now,
            )
            .on_conflict_do_nothing()
            .returning(col(EventRow.id))
        ).first()
        if stored is None:  # a message that came twice says nothing new, not even a time
            kept = session.exec(
                select(EventRow.event_id).where(
                    EventRow.station == event.station, EventRow.seq == event.seq
                )
            ).first()
            if kept != event.id:
                # Not the same event: the station's numbering went back (a database put
                # back from a backup?). The hub keeps what it has; people must look.
                _LOG.error(
                    "%s sent another event %s as seq %s (the hub has %s): not taken",
                    event.station,
                    event.id,
                    event.seq,
                    kept,
                )
                self._count(session, "seq_reused")
            return self._resend(session, state, now)
        state.last_seen = now
        beyond = state.station_last_seq > event.seq  # more may be stored after it
        state.station_last_seq = max(state.station_last_seq, event.seq)
        if event.seq == state.contiguous_seq + 1:
            # The usual case: the next one. Applied as it is, no need to read it back.
            self._apply(session, state, event_row(event, now))
            state.contiguous_seq = event.seq
            if beyond:
                self._advance(session, state)
        return self._resend(session, state, now)

    def _presence(
        self, session: Session, state: StationState, presence: Presence, now: datetime
    ) -> list[Command]:
        if not presence.online:  # the will, or a goodbye: the last word we had stands
            if state.online or state.offline_since is None:
                state.offline_since = now  # "offline for" counts from here
            state.online = False
            return []
        state.online = True
        state.offline_since = None
        session.execute(  # the hub's own alert of its being away ends with it
            delete(AlertView).where(
                col(AlertView.station) == state.station, col(AlertView.kind) == OFFLINE_ALERT
            )
        )
        state.last_seen = now
        state.boot = presence.boot
        if presence.layout is not None:
            state.layout = presence.layout
        state.station_last_seq = max(state.station_last_seq, presence.last_seq)
        return self._unanswered(session, state.station, now) + self._resend(session, state, now)

    def _unanswered(self, session: Session, station: str, now: datetime) -> list[Command]:
        """The commands a station that comes online has not answered yet, again (it
        answers a command it has seen with its first answer, so this is safe)."""
        rows = session.exec(
            select(CommandRow)
            .where(
                CommandRow.station == station,
                CommandRow.state == "sent",
                CommandRow.type != "resend",  # a resend of old is asked anew if need be
                col(CommandRow.issued_at) >= now - REPUBLISH_WITHIN,
            )
            .order_by(col(CommandRow.issued_at))
        ).all()
        key = registry.command_key(session, station) if rows else b""
        return [commands.message_of(row).signed(key) for row in rows]

    def _snapshot(
        self, session: Session, state: StationState, snapshot: Snapshot, now: datetime
    ) -> list[Command]:
        state.last_seen = now
        if snapshot.last_seq < state.contiguous_seq:
            _LOG.info(
                "snapshot of %s as of %s is older than the hub's %s: kept as is",
                snapshot.station,
                snapshot.last_seq,
                state.contiguous_seq,
            )
            return []
        name = snapshot.station
        for table in (ParcelView, CompartmentView, AlertView):
            session.execute(delete(table).where(col(table.station) == name))
        for c in snapshot.compartments:
            session.add(
                CompartmentView(station=name, compartment_id=c.id, size=c.size, state=c.state)
            )
        for p in snapshot.parcels:
            if p.state in LIVE_PARCEL_STATES:
                session.add(parcel_row(name, p))
        for a in snapshot.alerts:
            session.add(
                AlertView(
                    station=name,
                    kind=a.kind,
                    compartment_id=a.compartment_id,
                    detail=a.detail,
                    raised_at=a.raised_at,
                )
            )
        state.free = dict(snapshot.capacity)
        state.bus = dict(snapshot.bus)
        state.contiguous_seq = snapshot.last_seq
        state.station_last_seq = max(state.station_last_seq, snapshot.last_seq)
        session.flush()
        self._advance(session, state)
        return self._resend(session, state, now)

    def _result(
        self, session: Session, state: StationState, result: CommandResult, now: datetime
    ) -> None:
        state.last_seen = now
        row = session.exec(
            select(CommandRow).where(CommandRow.id == result.command_id).with_for_update()
        ).first()
        if row is None or row.station != result.station:
            raise BadPayload("unknown_command", f"{result.station} answered an unknown command")
        if row.state != "sent":
            return  # a replayed command's answer: the first one counts
        row.state = "ok" if result.ok else "refused"
        row.result = result.result
        row.problem_code = result.problem.code if result.problem else None
        row.problem_detail = result.problem.detail if result.problem else None
        row.answered_at = result.at
        # answered: the station has what it needed; the hub keeps no personal field of it
        row.args = commands.after_answer(row.type, row.args)

    # -- order and gaps ---------------------------------------------------------------

    def _advance(self, session: Session, state: StationState) -> None:
        """Apply the stored events that follow ``contiguous_seq`` without a gap."""
        while True:
            batch = session.exec(
                select(EventRow)
                .where(EventRow.station == state.station)
                .where(col(EventRow.seq) > state.contiguous_seq)
                .order_by(col(EventRow.seq))
                .limit(_BATCH)
            ).all()
            for row in contiguous(batch, state.contiguous_seq):
                self._apply(session, state, row)
                state.contiguous_seq = row.seq
            if len(batch) < _BATCH or state.contiguous_seq != batch[-1].seq:
                return

    def _resend(self, session: Session, state: Gaps, now: datetime) -> list[Command]:
        if state.station_last_seq <= state.contiguous_seq:
            state.gap_from = state.gap_seen_at = None
            state.resend_from = state.resend_asked_at = None
            return []
        first_missing = state.contiguous_seq + 1
        if state.gap_from != first_missing or state.gap_seen_at is None:
            state.gap_from, state.gap_seen_at = first_missing, now  # a new gap
        if now - state.gap_seen_at < self.gap_grace:
            return []  # it may be on its way (another worker holds it): wait a moment
        if (
            state.resend_from == first_missing
            and state.resend_asked_at is not None
            and now - state.resend_asked_at < self.resend_every
        ):
            return []
        state.resend_from, state.resend_asked_at = first_missing, now
        return [
            commands.issue(
                session,
                state.station,
                "resend",
                commands.ResendArgs(from_seq=first_missing),
                by="hub",
                now=now,
            )
        ]

    # -- projections ------------------------------------------------------------------

    def _apply(self, session: Session, state: StationState, row: EventRow) -> None:
        try:
            project_event(session, state, row)
        except ValidationError as exc:
            # The event stays stored and counts as applied: the chain goes on.
            _LOG.warning(
                "event %s/%s (%s) has data the hub cannot read: %s",
                row.station,
                row.seq,
                row.type,
                exc.errors()[:3],
            )
            self._count(session, "bad_event_data")

    def drop(self, reason: str, topic: str, detail: str) -> None:
        """Count and log a message that is not taken."""
        self.dropped[reason] += 1
        _LOG.warning("dropped a message on %r (%s): %s", topic[:200], reason, detail[:300])
        try:
            with self.db.transaction() as session:
                self._count(session, reason)
        except Exception:  # the count is a convenience; the drop stands
            _LOG.exception("could not count a dropped message")

    def _count(self, session: Session, reason: str, n: int = 1) -> None:
        session.execute(
            insert(DroppedCount)
            .values(reason=reason, count=n)
            .on_conflict_do_update(
                index_elements=["reason"],
                set_={"count": DroppedCount.count + n},
            )
        )
