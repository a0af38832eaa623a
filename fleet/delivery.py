"""Commands on their way to a station: published again until the broker has them.

A command is recorded (``sent``) and then published with QoS 1; the hub's MQTT client keeps
it while the broker is away, but not over a restart of the hub, and a broker may refuse one
for a while. So every publish is tracked by its message id until the broker's PUBACK, which
is written to the command's row (``reached_broker_at``); the workers' sweep publishes again
every unanswered command the broker has not acknowledged whose station is online, at most
once per ``retry_after`` (``published_at``), so a command does not wait for the station's
next birth. A station answers a command it has seen with its first answer, so publishing one
again is always safe; a command once at the broker is its session's to deliver.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import col, select

from fleet import commands, registry
from fleet.db import HubDatabase
from fleet.tables import CommandRow, StationState
from locker.uplink.messages import Command, topic

_LOG = logging.getLogger(__name__)
REPUBLISH_WITHIN = timedelta(days=7)  # as at a birth: older unanswered ones are left
SendFn = Callable[[str, bytes], int | None]  # (topic, payload) -> the message id, QoS 1


class CommandDelivery:
    """One MQTT client's publishes of commands, and the sweep's republishing."""

    def __init__(self, db: HubDatabase, send: SendFn, *, retry_after: timedelta) -> None:
        self.db = db
        self.retry_after = retry_after
        self._send = send
        self._lock = threading.Lock()
        self._waiting: dict[int, str] = {}  # message id -> command id, until its PUBACK
        self._early: dict[int, bool] = {}  # PUBACKs that came before publish() returned
        self._reached: list[str] = []  # acknowledged, not yet written to the database
        self.refused = 0  # PUBACKs with a failure (the broker would not take it)

    def publish(self, command: Command) -> None:
        # Never under our lock: paho calls on_puback holding its own, which send() takes.
        mid = self._send(topic(command.station, "cmd"), command.payload())
        if mid is None:
            return
        with self._lock:
            for old in [m for m, c in self._waiting.items() if c == command.id]:
                del self._waiting[old]  # published again: the older copy's ack is moot
            self._waiting[mid] = command.id
            early = self._early.pop(mid, None)
        if early is not None:
            self.on_puback(mid, early)

    def on_puback(self, mid: int, ok: bool) -> None:
        """From the client's network thread: hand over only, no database here."""
        with self._lock:
            command_id = self._waiting.pop(mid, None)
            if command_id is None:
                if len(self._early) < 10_000:
                    self._early[mid] = ok
                return
            if ok:
                self._reached.append(command_id)
            else:
                self.refused += 1
        if not ok:
            _LOG.error("the broker refused command %s; it is published again", command_id)

    def sweep(self, now: datetime) -> None:
        """Write the acknowledgements, then publish again what is due (the sweep thread)."""
        with self._lock:
            reached, self._reached = self._reached, []
        if reached:
            with self.db.transaction() as session:
                session.execute(
                    update(CommandRow)
                    .where(col(CommandRow.id).in_(reached))
                    .values(reached_broker_at=now)
                )
        for command in self.due(now):
            self.publish(command)

    def due(self, now: datetime) -> list[Command]:
        """Unanswered commands the broker never acknowledged, of stations that are online,
        not published within ``retry_after``; marked as published now (rows another worker
        is taking are skipped, so two sweeps do not both send one)."""
        last = func.coalesce(col(CommandRow.published_at), col(CommandRow.issued_at))
        with self.db.transaction() as session:
            rows = session.exec(
                select(CommandRow)
                .join(StationState, col(StationState.station) == col(CommandRow.station))
                .where(
                    CommandRow.state == "sent",
                    CommandRow.type != "resend",  # ingest asks for a gap anew if need be
                    col(CommandRow.reached_broker_at).is_(None),
                    col(StationState.online),
                    col(CommandRow.issued_at) >= now - REPUBLISH_WITHIN,
                    last < now - self.retry_after,
                )
                .order_by(col(CommandRow.issued_at))
                .limit(500)
                .with_for_update(of=CommandRow, skip_locked=True)
            ).all()
            keys: dict[str, bytes] = {}
            out = []
            for row in rows:
                row.published_at = now
                if row.station not in keys:
                    keys[row.station] = registry.command_key(session, row.station)
                out.append(commands.message_of(row).signed(keys[row.station]))
        if out:
            _LOG.info("publishing %d command(s) again that never reached the broker", len(out))
        return out
