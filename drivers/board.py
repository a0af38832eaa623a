"""What every lock-board type offers: the :class:`LockBoard` protocol and its values.

Board types implement it by subclassing :class:`drivers.base.BoardBase`, which holds the
shared bookkeeping and the unlock procedure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

ENGAGED_HIGH = "engaged_high"  # hook bit 1 = engaged, the spec's default (lock-protocol.md §1.5)
ENGAGED_LOW = "engaged_low"  # hook bit 0 = engaged (other switch wiring, §1.10, Q6)
POLARITIES = (ENGAGED_HIGH, ENGAGED_LOW)


@dataclass(frozen=True)
class LockState:
    """One lock as its board reports it (polarity already applied).

    ``hook_engaged``: the latch has caught, so the door is shut (lock-protocol.md §1.6.3).
    ``item_present``: the IR strip sees something; None when the board has no strip.
    """

    hook_engaged: bool
    item_present: bool | None


@dataclass(frozen=True)
class BoardStatus:
    """Every lock of one board, read in one exchange. ``locks[0]`` is lock 1."""

    address: int
    locks: tuple[LockState, ...]

    def lock(self, number: int) -> LockState:
        """The state of lock ``number`` (1-based)."""
        if not 1 <= number <= len(self.locks):
            raise ValueError(f"board {self.address} has no lock {number}")
        return self.locks[number - 1]


@dataclass(frozen=True)
class UnlockResult:
    """What became of one unlock.

    ``released``: True when a fresh read after the pulse showed the hook not engaged;
    False when the board answered every read-back but the hook stayed engaged;
    None when the read-back failed, so nothing is known (the door may be open).
    ``pulses``: unlock frames sent (1 or 2). ``state``: the last fresh reading, if any.
    """

    address: int
    lock: int
    released: bool | None
    pulses: int
    state: LockState | None = None


@dataclass(frozen=True)
class RawStatus:
    """One board's answer before polarity: bit n-1 is lock n. ``items`` None: no IR data."""

    hooks: int
    items: int | None


class LockBoard(Protocol):
    """One lock board on a bus, as :mod:`drivers.station_locks` and the CLI use it."""

    @property
    def address(self) -> int:
        """The board's address on its bus (DIP switch)."""
        ...

    @property
    def lock_count(self) -> int:
        """Locks the board drives, numbered from 1."""
        ...

    def status(self) -> BoardStatus:
        """Read every lock of the board. :raises BusError: when no valid answer came."""
        ...

    def unlock(self, lock: int) -> UnlockResult:
        """Pulse one lock and read back whether it released.

        :raises BusError: only when no pulse can have been sent.
        """
        ...

    def query_pulse(self) -> int:
        """The board's unlock pulse time in ms."""
        ...

    def set_pulse(self, ms: int) -> int:
        """Store a new pulse time on the board; return the time it reports."""
        ...
