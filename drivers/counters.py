"""Traffic and error counters of a bus, kept thread-safe and shown as snapshots."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class BusCounters:
    """A snapshot of everything a bus counted, for the maintenance screen."""

    requests: int = 0  # requests that expected an answer (retries not included)
    commands: int = 0  # frames sent that expect no answer (CU16 unlock)
    replies: int = 0  # valid frames that answered a request
    timeouts: int = 0  # attempts that ended at the deadline without a full answer
    retries: int = 0  # attempts sent again after a failed one
    checksum_errors: int = 0  # frames whose checksum failed (dropped, never acted on)
    bad_frames: int = 0  # STX that started no valid frame (ETX misplaced, unknown code)
    unexpected_answers: int = 0  # valid frames from another board or for another command
    dropped_bytes: int = 0  # bytes thrown away: stale before a request, or while resynchronising
    resyncs: int = 0  # times the receiver lost frame sync
    refusals: int = 0  # answers in which the board said no
    port_errors: int = 0  # failures to open, read or write the port
    reconnects: int = 0  # successful reopenings after a port error

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain mapping (for JSON)."""
        return asdict(self)


class Tally:
    """The running counts behind :class:`BusCounters`; safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = {f.name: 0 for f in fields(BusCounters)}

    def add(self, **amounts: int) -> None:
        """Add to the named counters (names of :class:`BusCounters` fields)."""
        with self._lock:
            for name, amount in amounts.items():
                self._counts[name] += amount

    def snapshot(self) -> BusCounters:
        """A consistent copy of every counter."""
        with self._lock:
            return BusCounters(**self._counts)
