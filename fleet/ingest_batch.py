"""What the stations send, a batch at a time: one transaction for many messages.

``handle(ingest, messages, now)`` stores and applies a batch of messages (``(topic,
payload)``, in the order the broker delivered them) in **one** transaction and returns the
commands to publish once it has committed. The rules are those of :mod:`fleet.ingest`
(stored exactly once, applied in each station's order, gaps asked for); only the number of
round trips changes:

1. every payload is read first (a bad one is dropped and counted, as one by one);
2. the stations named are locked at once, in the order of their names (``SELECT … ORDER BY
   station FOR UPDATE``): two workers' batches that name the same stations take their
   locks in the same order and wait for each other rather than deadlock;
3. the messages are taken in their order, a run of consecutive events at a time: the run's
   events go in with one ``INSERT … SELECT FROM json_to_recordset(…) ON CONFLICT DO
   NOTHING RETURNING`` (:mod:`fleet.sql_rows`), each station's new ones are applied in
   the order of their numbers from its ``contiguous_seq`` on (events beyond a gap wait,
   as one by one), through :class:`fleet.projection_batch.Projector`; a birth, a
   snapshot or a command's answer between them is handled on its own (in a savepoint,
   so a bad one is dropped alone);
4. each station touched is looked at once for a gap (a signed ``resend``).

A run that PostgreSQL refuses as data (a NUL character in an event) is rolled back to its
savepoint and taken one event at a time, so only the bad event is dropped. A database that
is away raises: the worker then acknowledges none of the batch and it comes again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError
from sqlmodel import Session, col, select

from fleet import station_progress
from fleet.errors import BadPayload
from fleet.ingest import Ingest
from fleet.payloads import parse_payload
from fleet.projection_batch import Applied, Projector
from fleet.sql_rows import rows_json
from fleet.station_progress import Progress
from fleet.tables import EventRow, StationState
from locker.testkit import crashpoints
from locker.uplink.messages import (
    Command,
    CommandResult,
    Event,
    Presence,
    Snapshot,
    station_of,
)

_LOG = logging.getLogger(__name__)
_KINDS: dict[str, type[BaseModel]] = {
    "evt": Event,
    "state": Presence,
    "snap": Snapshot,
    "res": CommandResult,
}
_INSERT = sa.text(
    "INSERT INTO events (station, seq, event_id, type, data, at, received_at) "
    "SELECT s, q, i, t, d, a, :now FROM json_to_recordset(CAST(:rows AS json)) "
    "AS u(s text, q bigint, i text, t text, d jsonb, a timestamptz) "
    "ON CONFLICT DO NOTHING RETURNING station, seq"
)
_ADVANCE_PAGE = 500
_FOLLOWING = sa.text(
    "SELECT e.station, e.seq, e.event_id, e.type, e.data, e.at, e.received_at"
    " FROM json_to_recordset(CAST(:rows AS json)) AS u(s text, c bigint)"
    " CROSS JOIN LATERAL (SELECT * FROM events WHERE station = u.s AND seq > u.c"
    " ORDER BY seq LIMIT :page) AS e ORDER BY e.station, e.seq"
)


@dataclass(frozen=True)
class Message:
    topic: str
    station: str
    kind: str
    body: Any  # the kind's model


def read(topic: str, payload: bytes) -> Message:
    """One message's topic and payload, checked (raises :class:`BadPayload`)."""
    try:
        station, kind = station_of(topic)
    except ValueError as exc:
        raise BadPayload("unknown_topic", str(exc)) from None
    model = _KINDS.get(kind)
    if model is None:
        raise BadPayload("unknown_topic", f"the hub takes no {kind!r} messages")
    return Message(topic, station, kind, parse_payload(model, payload, station))


def handle(ingest: Ingest, messages: Sequence[tuple[str, bytes]], now: datetime) -> list[Command]:
    """Store and apply ``messages`` in one transaction; the commands to publish after it."""
    batch = _Batch(ingest, now)
    taken: list[Message] = []
    for topic, payload in messages:
        try:
            taken.append(read(topic, payload))
        except BadPayload as exc:
            batch.drop(exc.reason, topic, exc.message)
    with ingest.db.transaction() as session:
        batch.session = session
        batch.lock({m.station for m in taken})
        for run in _runs(taken):
            if run[0].kind == "evt":
                batch.events(run)
            else:
                batch.one(run[0])
        batch.count_drops()
        crashpoints.reached(crashpoints.INGEST_BATCH_OPEN)
    for reason, topic, detail in batch.drops:
        ingest.dropped[reason] += 1
        _LOG.warning("dropped a message on %r (%s): %s", topic[:200], reason, detail[:300])
    return batch.out


def _runs(messages: list[Message]) -> Iterator[list[Message]]:
    """Consecutive events together; any other message alone (the order is kept)."""
    run: list[Message] = []
    for message in messages:
        if message.kind == "evt":
            run.append(message)
            continue
        if run:
            yield run
            run = []
        yield [message]
    if run:
        yield run


class _Batch:
    def __init__(self, ingest: Ingest, now: datetime) -> None:
        self.ingest = ingest
        self.now = now
        self.session: Session = None  # type: ignore[assignment]  # set in the transaction
        self.states: dict[str, Progress] = {}
        self.drops: list[tuple[str, str, str]] = []
        self.out: list[Command] = []

    def drop(self, reason: str, topic: str, detail: str) -> None:
        self.drops.append((reason, topic, detail))

    def count_drops(self) -> None:
        counts: dict[str, int] = {}
        for reason, _, _ in self.drops:
            counts[reason] = counts.get(reason, 0) + 1
        for reason, n in sorted(counts.items()):
            self.ingest._count(self.session, reason, n)

    def lock(self, names: set[str]) -> None:
        self.states = station_progress.lock(self.session, names)

    # -- a birth, a snapshot, an answer -----------------------------------------------

    def one(self, message: Message) -> None:
        progress = self.states.get(message.station)
        if progress is None:
            self._unknown(message)
            return
        session, ingest, now = self.session, self.ingest, self.now
        state = station_progress.to_row(session, progress)
        try:
            with self._savepoint():
                if message.kind == "state":
                    self.out += ingest._presence(session, state, message.body, now)
                elif message.kind == "snap":
                    self.out += ingest._snapshot(session, state, message.body, now)
                else:
                    ingest._result(session, state, message.body, now)
                session.flush()
        except BadPayload as exc:
            self.drop(exc.reason, message.topic, exc.message)
        except DataError as exc:
            self.drop("unstorable", message.topic, str(exc.orig))
        self._forget_views()
        session.refresh(state)  # rolled back to the savepoint or not: as the row is
        station_progress.from_row(progress, state)

    def _unknown(self, message: Message) -> None:
        self.drop(
            "unknown_station", message.topic, f"station {message.station!r} is not registered"
        )

    def _savepoint(self) -> Any:
        """A savepoint, once what the session holds is flushed: rolled back, it takes
        back only what came after it."""
        self.session.flush()
        return self.session.begin_nested()

    def _forget_views(self) -> None:
        """Let go of the views the session loaded, so that the next statements (written
        around the ORM by the projector) and the ORM never disagree; the stations' rows
        (locked) stay."""
        self.session.flush()
        for obj in list(self.session.identity_map.values()):
            if not isinstance(obj, StationState):
                self.session.expunge(obj)

    def _orm(self, progress: Progress) -> StationState:
        """The station's ORM row for ``project_event`` (which reads its layout only)."""
        return self.session.get_one(StationState, progress.station)

    # -- a run of events --------------------------------------------------------------

    def events(self, run: list[Message]) -> None:
        first: dict[tuple[str, int], Event] = {}
        repeated: list[Event] = []  # the same number again in this batch
        for message in run:
            if message.station not in self.states:
                self._unknown(message)
                continue
            event: Event = message.body
            key = (event.station, event.seq)
            if key in first:
                repeated.append(event)
            else:
                first[key] = event
        if not first:
            return
        try:
            with self._savepoint():
                stored = self._insert(list(first.values()))
        except DataError:
            self._one_by_one(run)
            return
        self._check_reused([e for key, e in first.items() if key not in stored] + repeated)
        projector = Projector(self.session, self._bad, self._orm)
        by_station: dict[str, list[Event]] = {e.station: [] for e in first.values()}
        for key, e in first.items():
            if key in stored:
                by_station[e.station].append(e)
        following = [
            self.states[station]
            for station, new in by_station.items()
            if self._apply(projector, self.states[station], new)
        ]
        self._advance(projector, following)
        projector.flush()
        touched = [self.states[station] for station in by_station]
        for progress in touched:
            self.out += self.ingest._resend(self.session, progress, self.now)
        station_progress.write(self.session, touched)
        self._forget_views()

    def _insert(self, events: list[Event]) -> set[tuple[str, int]]:
        rows = (
            {"s": e.station, "q": e.seq, "i": e.id, "t": e.type, "d": e.data, "a": e.at}
            for e in events
        )
        found = self.session.execute(_INSERT, {"rows": rows_json(rows), "now": self.now}).all()
        return {(station, int(seq)) for station, seq in found}

    def _apply(self, projector: Projector, state: Progress, new: list[Event]) -> bool:
        """A station's new events, applied in the order of their numbers from its
        ``contiguous_seq``; whether events stored beyond a gap before this batch may
        follow now (:meth:`_advance`)."""
        if not new:
            return False
        new.sort(key=lambda e: e.seq)
        before = state.station_last_seq
        state.last_seen = self.now
        state.station_last_seq = max(before, new[-1].seq)
        applied = False
        for event in new:
            if event.seq == state.contiguous_seq + 1:
                projector.add(state, _row_of(event, self.now))
                state.contiguous_seq = event.seq
                applied = True
        return applied and before > state.contiguous_seq

    def _advance(self, projector: Projector, stations: list[Progress]) -> None:
        """Apply the stored events that follow each station's ``contiguous_seq`` without a
        gap: one query for all the stations, a page of each at a time."""
        while stations:
            rows = self.session.execute(
                _FOLLOWING,
                {
                    "rows": rows_json({"s": p.station, "c": p.contiguous_seq} for p in stations),
                    "page": _ADVANCE_PAGE,
                },
            ).all()
            pages: dict[str, list[Any]] = {}
            for row in rows:
                pages.setdefault(row.station, []).append(row)
            more = []
            for progress in stations:
                page = pages.get(progress.station, [])
                for row in page:
                    if row.seq != progress.contiguous_seq + 1:
                        break
                    projector.add(progress, Applied(**row._asdict()))
                    progress.contiguous_seq = row.seq
                else:
                    if len(page) == _ADVANCE_PAGE:
                        more.append(progress)  # a whole page in line: there may be more
            stations = more

    def _check_reused(self, events: list[Event]) -> None:
        """An event that was not stored came twice (nothing to do) unless the hub has
        another one under its number: the station's numbering went back."""
        if not events:
            return
        keys = sorted({(e.station, e.seq) for e in events})
        kept = {
            (station, int(seq)): event_id
            for station, seq, event_id in self.session.execute(
                select(EventRow.station, EventRow.seq, EventRow.event_id).where(
                    sa.tuple_(col(EventRow.station), col(EventRow.seq)).in_(keys)
                )
            ).all()
        }
        for event in events:
            held = kept.get((event.station, event.seq))
            if held != event.id:
                _LOG.error(
                    "%s sent another event %s as seq %s (the hub has %s): not taken",
                    event.station,
                    event.id,
                    event.seq,
                    held,
                )
                self.ingest._count(self.session, "seq_reused")

    def _one_by_one(self, run: list[Message]) -> None:
        """A run PostgreSQL refused as data: each event on its own, the bad one dropped."""
        for message in run:
            progress = self.states.get(message.station)
            if progress is None:
                continue  # counted already
            state = station_progress.to_row(self.session, progress)
            try:
                with self._savepoint():
                    self.out += self.ingest._event(self.session, state, message.body, self.now)
                    self.session.flush()
            except DataError as exc:
                self.drop("unstorable", message.topic, str(exc.orig))
            self._forget_views()
            self.session.refresh(state)
            station_progress.from_row(progress, state)

    def _bad(self, row: EventRow | Applied, exc: ValidationError) -> None:
        _LOG.warning(
            "event %s/%s (%s) has data the hub cannot read: %s",
            row.station,
            row.seq,
            row.type,
            exc.errors()[:3],
        )
        self.ingest._count(self.session, "bad_event_data")


def _row_of(event: Event, now: datetime) -> Applied:
    return Applied(
        station=event.station,
        seq=event.seq,
        event_id=event.id,
        type=event.type,
        data=event.data,
        at=event.at,
        received_at=now,
    )
