"""The simulated terminal's state: password, registration, modelled times, faults, and
its journal of payments (what money it took, for tests to weigh against the station).

:class:`TerminalSim` is shared by every connection of :func:`sim.zvt.server.serve_zvt`;
one transaction runs at a time (a second is answered "busy").
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from enum import StrEnum


class ZvtFault(StrEnum):
    """What a test (or the demo) can make the terminal do."""

    DECLINED = "declined"  # the card issuer refuses: result 05, then abort
    WALK_AWAY = "walk-away"  # no card ever comes: the terminal's own timeout, abort 6C
    BUSY = "busy"  # every command is refused with 84 A0 (in another transaction)
    LOST_AFTER_APPROVAL = "lost-after-approval"  # the link drops right after result 00
    NO_COMPLETION = "no-completion"  # result 00, then never the completion
    UNKNOWN_BITMAPS = "unknown-bitmaps"  # extra bitmaps and TLV the station must skip
    GARBAGE = "garbage"  # bytes that are no frame where the status information belongs
    TORN = "torn"  # half the status information, then the link drops
    NO_REVERSAL = "no-reversal"  # a reversal is refused (06 1E B5: reversal not possible)


@dataclass
class ZvtTimes:
    """Modelled times, seconds (a test sets them to zero)."""

    card_s: float = 3.0  # from "insert card" until the card is read
    pin_s: float = 4.0  # the customer types the PIN
    host_s: float = 1.0  # the card issuer's authorisation (and a reversal's, a day's end)
    terminal_timeout_s: float = 60.0  # the terminal gives up waiting for a card
    ack_timeout_s: float = 5.0  # for the station's 80 00 00, then it repeats
    repeats: int = 2  # a message unacknowledged this many more times, then it gives up

    @classmethod
    def zero(cls) -> ZvtTimes:
        return cls(card_s=0, pin_s=0, host_s=0, terminal_timeout_s=0, ack_timeout_s=2.0)


@dataclass
class Payment:
    """One approved payment in the terminal's journal."""

    receipt: int
    trace: int
    amount_cents: int
    reversed_by: int | None = None  # the receipt number of its reversal
    settled: bool = False  # included in an end-of-day


@dataclass
class TerminalSim:
    """A ZVT card terminal's state."""

    password: str = field(default_factory=lambda: f"{secrets.randbelow(10**6):06d}")
    times: ZvtTimes = field(default_factory=ZvtTimes)
    faults: set[ZvtFault] = field(default_factory=set)
    terminal_id: int = 52500001
    registered: bool = False
    config: int = 0
    journal: list[Payment] = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)  # the station's frames, in order
    sent: list[bytes] = field(default_factory=list)  # the terminal's frames, in order
    unacknowledged: int = 0  # messages the station never acknowledged
    bad_frames: int = 0  # bytes from the station that were no frame
    connections: int = 0  # open now
    _receipt: int = 0
    _trace: int = 0
    _steps: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0), repr=False)
    _busy: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _log: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if len(self.password) != 6 or not self.password.isdigit():
            raise ValueError("the terminal's password is 6 digits")

    # -- what the sessions use -----------------------------------------------------------
    def record(self, into: list[bytes], raw: bytes) -> None:
        with self._log:
            into.append(raw)

    def begin(self) -> bool:
        """Start a transaction; False when one runs already."""
        return self._busy.acquire(blocking=False)

    def end(self) -> None:
        self._busy.release()

    def next_numbers(self) -> tuple[int, int]:
        """A new receipt and trace number (1 to 9999, 1 to 999999, then from 1 again)."""
        with self._log:
            self._receipt = self._receipt % 9999 + 1
            self._trace = self._trace % 999999 + 1
            return self._receipt, self._trace

    def batch(self) -> list[Payment]:
        """The payments since the last end of day."""
        return [p for p in self.journal if not p.settled]

    def connected(self, change: int) -> None:
        with self._log:
            self.connections += change

    # -- for tests -------------------------------------------------------------------------
    def taken_cents(self) -> int:
        """The money the terminal holds: approved payments not reversed."""
        return sum(p.amount_cents for p in self.journal if p.reversed_by is None)

    def step(self) -> None:
        """The customer moves on now (the card inserted, the PIN typed): the modelled
        time the terminal is waiting out ends at once. With long times, a test sees each
        intermediate text and says when the next comes."""
        self._steps.release()

    def stepped(self) -> bool:
        """For the sessions: True (once per :meth:`step`) when the customer moved on."""
        return self._steps.acquire(blocking=False)

    def forget_registration(self) -> None:
        """As after a restart of the terminal."""
        self.registered = False

    def frames_received(self) -> list[str]:
        with self._log:
            return [f.hex(" ") for f in self.received]
