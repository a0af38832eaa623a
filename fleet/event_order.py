"""A station's events as the hub stores them, and their order (seq without a gap)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fleet.tables import EventRow
from locker.uplink.messages import Event


def event_row(event: Event, now: datetime) -> EventRow:
    """The stored row of a station's event, received ``now``."""
    return EventRow(
        station=event.station,
        seq=event.seq,
        event_id=event.id,
        type=event.type,
        data=event.data,
        at=event.at,
        received_at=now,
    )


def contiguous(rows: list[EventRow] | Any, after: int) -> Iterator[EventRow]:
    """The rows (by seq) that follow ``after`` without a gap."""
    expected = after + 1
    for row in rows:
        if row.seq != expected:
            return
        yield row
        expected += 1

    # "door" events are history only: the door's result shows in its compartment event.
