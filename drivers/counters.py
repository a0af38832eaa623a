"""Traffic and error counters of a bus, kept thread-safe and shown as snapshots."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import Enum


class FailureKind(Enum):
    """How one attempt at a read ended without an answer (for commissioning and health).

    Told apart by what arrived before the deadline, so an installer knows whether to look
    at the address and the wiring (silence) or at noise, termination and baud (the others).
    """

    BAD_CHECKSUM = "bad_checksum"  # a whole frame came, but its checksum did not match
    TORN_FRAME = "torn_frame"  # bytes came, but no whole frame: cut short, garbage, or
    #                            valid frames that do not answer the request
    SILENCE = "silence"  # not one byte came

    @property
    def text(self) -> str:
        """The kind as a technician reads it: ``bad checksum``, ``torn frame``, ``silence``."""
        return self.value.replace("_", " ")


def summarize(attempts: Iterable[FailureKind]) -> list[tuple[FailureKind, int]]:
    """The kinds of failed attempts with their counts, most frequent first (ties: in the
    order of :class:`FailureKind`, the most telling first)."""
    counts = Counter(attempts)
    order = list(FailureKind)
    return sorted(counts.items(), key=lambda item: (-item[1], order.index(item[0])))


def describe(attempts: Iterable[FailureKind], tries: int | None = None) -> str:
    """``bad checksum (3 of 3 tries)``; several kinds are listed, the most frequent first.

    :param tries: attempts made in all (default: as many as ``attempts`` lists).
    """
    attempts = list(attempts)
    if not attempts:
        return "no answer"
    total = len(attempts) if tries is None else tries
    return ", ".join(
        f"{kind.text} ({count} of {total} {'try' if total == 1 else 'tries'})"
        for kind, count in summarize(attempts)
    )


@dataclass(frozen=True)
class BusCounters:
    """A snapshot of everything a bus counted, for the maintenance screen."""

    requests: int = 0  # requests that expected an answer (retries not included)
    commands: int = 0  # frames sent that expect no answer (CU16 unlock)
    replies: int = 0  # valid frames that answered a request
    timeouts: int = 0  # attempts that ended at the deadline without a full answer
    #                    (= attempts_silent + attempts_torn_frame + attempts_bad_checksum)
    attempts_silent: int = 0  # ... of which not one byte came
    attempts_torn_frame: int = 0  # ... of which bytes came, but no whole frame
    attempts_bad_checksum: int = 0  # ... of which a whole frame came with a wrong checksum
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


ATTEMPT_COUNTER = {
    FailureKind.SILENCE: "attempts_silent",
    FailureKind.TORN_FRAME: "attempts_torn_frame",
    FailureKind.BAD_CHECKSUM: "attempts_bad_checksum",
}  # the BusCounters field that counts the failed attempts of each kind


@dataclass(frozen=True)
class BoardFailures:
    """What went wrong reading one board since the station started (a snapshot).

    ``last``: the kind of every failed attempt of the last read that got no answer
    (empty: no read has failed). ``failed_reads``: reads that got no answer, by the kind
    that dominated their attempts. ``answered_since``: a read succeeded after the last
    failure (the board is answering again).
    """

    address: int
    last: tuple[FailureKind, ...] = ()
    failed_reads: Mapping[FailureKind, int] = field(default_factory=dict)
    answered_since: bool = False
    last_tries: int = 0  # attempts the last failed read made (more than ``last`` lists
    #                      when the board refused some)

    @property
    def last_kind(self) -> FailureKind | None:
        """The kind that dominated the last failed read, None if none failed."""
        return summarize(self.last)[0][0] if self.last else None

    def describe(self) -> str:
        """``bad checksum (3 of 3 tries)`` for the last failed read, ``""`` if none failed."""
        return describe(self.last, self.last_tries or None) if self.last else ""

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON: kinds by their ``value``."""
        kind = self.last_kind
        return {
            "address": self.address,
            "last_failure": kind.value if kind else None,
            "last_failure_detail": self.describe() or None,
            "answered_since": self.answered_since,
            "failed_reads": {k.value: self.failed_reads.get(k, 0) for k in FailureKind},
        }


class FailureLog:
    """The running :class:`BoardFailures` of one board; safe to use from several threads."""

    def __init__(self, address: int) -> None:
        self._lock = threading.Lock()
        self._address = address
        self._last: tuple[FailureKind, ...] = ()
        self._tries = 0
        self._reads: Counter[FailureKind] = Counter()
        self._answered_since = False

    def failed(self, attempts: Iterable[FailureKind], tries: int | None = None) -> None:
        """A read got no answer; ``attempts`` says how each failed try ended (empty:
        unknown), ``tries`` how many were made (default: as many)."""
        attempts = tuple(attempts)
        if not attempts:
            return
        with self._lock:
            self._last = attempts
            self._tries = len(attempts) if tries is None else tries
            self._reads[summarize(attempts)[0][0]] += 1
            self._answered_since = False

    def answered(self) -> None:
        """A read got its answer."""
        with self._lock:
            if self._last:
                self._answered_since = True

    def snapshot(self) -> BoardFailures:
        with self._lock:
            return BoardFailures(
                self._address, self._last, dict(self._reads), self._answered_since, self._tries
            )
