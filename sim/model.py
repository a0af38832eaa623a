"""The physical model of one lock board: latches, doors, parcels, and the settings it keeps.

Protocol-neutral (a CU16 board has 16 locks, a CU12 board 12); the responders in
:mod:`sim.respond_cu16` and :mod:`sim.respond_cu12` translate frames into calls on it.

Per lock (lock-protocol.md sections 1.6.3 and 10):

* ``latched``: the hook is engaged. It can only catch on a shut door.
* ``door_open``: the door stands ajar or open.
* ``item``: what the IR strip would see (a parcel is in the compartment).

Start: every door shut and latched, every compartment empty. An unlock starts a pulse of
``pulse_ms`` (after the board's delayed-unlock time, if set); at the *end* of the pulse the latch
lets go and the spring pushes the door ajar, unless a stuck-latch fault holds it. A pulse on a
lock that is already open pulses again, harmlessly. ``close_door`` is a person pushing the door
shut: the latch catches. Unlock-all pulses the locks one after another (section 1.6.4, "one by
one"), each for ``pulse_ms``.

Time is explicit: every call takes the time it happens at (``time.monotonic`` seconds) and pulse
ends are applied lazily by :meth:`SimBoard.advance`, so the model needs no thread of its own.
The board does not lock: :class:`sim.bus.SimBus` serialises access to it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal, Protocol

_LOGGER = logging.getLogger(__name__)

HookPolarity = Literal["engaged_high", "engaged_low"]
HOOK_POLARITIES: tuple[HookPolarity, ...] = ("engaged_high", "engaged_low")  # section 1.10

DEFAULT_PULSE_MS = 550  # factory unlock pulse, sections 1.1 and 2.2
FLASH_WRITE_S = 0.5  # the board ignores input after a config write, sections 1.4, 1.6.6, 2.2


class PhysicalFaults(Protocol):
    """The faults the physical model asks about (implemented by :class:`sim.faults.FaultSet`)."""

    def latch_stuck(self, board: int, lock: int) -> bool:
        """Does the latch of this lock fail to release at the end of this pulse?"""
        ...

    def lying_mask(self, board: int, n_locks: int) -> int:
        """Bits (lock n = bit n-1) whose hook reading is reported inverted this time."""
        ...

    def latch_would_stick(self, board: int, lock: int) -> bool:
        """Would the latch of this lock stay engaged at a pulse's end (nothing consumed)?"""
        ...


@dataclass(frozen=True)
class LockState:
    """The truth about one lock, as a person standing in front of it would see it."""

    latched: bool
    door_open: bool
    item: bool
    pulsing: bool


@dataclass
class _Lock:
    latched: bool = True
    door_open: bool = False
    item: bool = False
    pulse_start: float | None = None
    pulse_end: float | None = None
    unlocks: int = 0


class SimBoard:
    """One lock board: its locks and its settings."""

    def __init__(
        self,
        address: int,
        n_locks: int,
        *,
        pulse_ms: int = DEFAULT_PULSE_MS,
        hook_polarity: HookPolarity = "engaged_high",
        ir_sensors: bool = True,
        flash_write_s: float = FLASH_WRITE_S,
        baud: int = 19200,
        faults: PhysicalFaults | None = None,
    ) -> None:
        if hook_polarity not in HOOK_POLARITIES:
            raise ValueError(f"hook_polarity must be one of {HOOK_POLARITIES}")
        if pulse_ms < 0 or flash_write_s < 0:
            raise ValueError("pulse_ms and flash_write_s must not be negative")
        self.address = address
        self.n_locks = n_locks
        self.pulse_ms = pulse_ms
        self.hook_polarity: HookPolarity = hook_polarity
        self.ir_sensors = ir_sensors
        self.flash_write_s = flash_write_s
        self.baud = baud  # the rate the board listens at; it hears nothing at another rate
        self.unlock_delay_s = 0  # CU16 0x39 / CU12 0x84
        self.push_door_s = 0  # CU12 0x85
        self.busy_until = float("-inf")  # end of the last flash write
        self._faults = faults
        self._locks = [_Lock() for _ in range(n_locks)]

    def __repr__(self) -> str:
        return f"SimBoard(address={self.address}, n_locks={self.n_locks})"

    def _lock(self, lock: int) -> _Lock:
        if not 1 <= lock <= self.n_locks:
            raise ValueError(f"lock {lock} outside 1..{self.n_locks}")
        return self._locks[lock - 1]

    # -- time
    def advance(self, now: float) -> None:
        """Apply every pulse that has ended by ``now``."""
        for number, lock in enumerate(self._locks, start=1):
            if lock.pulse_end is None or lock.pulse_end > now:
                continue
            lock.pulse_start = lock.pulse_end = None
            if self._faults is not None and self._faults.latch_stuck(self.address, number):
                _LOGGER.debug("board %d lock %d: latch stuck, stays engaged", self.address, number)
                continue
            if lock.latched:
                lock.latched = False
                lock.door_open = True  # the spring pushes the door ajar
                _LOGGER.debug("board %d lock %d: released, door ajar", self.address, number)

    def is_busy(self, at: float) -> bool:
        """Still writing flash after a config change (ignores its input)."""
        return at < self.busy_until

    def write_config(self, at: float) -> None:
        """A setting changed: the board writes flash and is deaf for ``flash_write_s``."""
        self.busy_until = at + self.flash_write_s

    # -- commands
    def unlock(self, lock: int, at: float, *, after_s: float = 0.0) -> None:
        """Energise ``lock`` for ``pulse_ms``, starting ``after_s`` + the delayed-unlock time."""
        state = self._lock(lock)
        self.advance(at)
        start = at + after_s + self.unlock_delay_s
        end = start + self.pulse_ms / 1000
        if state.pulse_start is not None and state.pulse_end is not None:
            start, end = min(start, state.pulse_start), max(end, state.pulse_end)
        state.pulse_start, state.pulse_end = start, end
        state.unlocks += 1
        _LOGGER.debug("board %d lock %d: pulse %.3f..%.3f", self.address, lock, start, end)

    def unlock_all(self, at: float) -> None:
        """Pulse every lock, one after another."""
        for lock in range(1, self.n_locks + 1):
            self.unlock(lock, at, after_s=(lock - 1) * self.pulse_ms / 1000)

    def factory_reset(self) -> None:
        """Settings back to the factory values (CU12 0x8E)."""
        self.pulse_ms = DEFAULT_PULSE_MS
        self.unlock_delay_s = 0
        self.push_door_s = 0

    # -- the world
    def close_door(self, lock: int, at: float) -> None:
        """A person pushes the door shut: the latch catches (again released by a running pulse)."""
        state = self._lock(lock)
        self.advance(at)
        state.door_open = False
        state.latched = True

    def release_latch(self, lock: int, at: float) -> None:
        """The latch lets go without a pulse (a service key): the door springs ajar."""
        state = self._lock(lock)
        self.advance(at)
        state.latched = False
        state.door_open = True

    def open_door(self, lock: int, at: float) -> None:
        """A person pulls a released door fully open (no effect on a latched door)."""
        state = self._lock(lock)
        self.advance(at)
        if not state.latched:
            state.door_open = True

    def put_item(self, lock: int) -> None:
        self._lock(lock).item = True

    def take_item(self, lock: int) -> None:
        self._lock(lock).item = False

    def lock_state(self, lock: int, at: float) -> LockState:
        state = self._lock(lock)
        self.advance(at)
        pulsing = state.pulse_start is not None and state.pulse_start <= at
        return LockState(state.latched, state.door_open, state.item, pulsing)

    def will_release(self, lock: int) -> bool:
        """Will the latch let go at the end of the running pulse (no fault holding it)?"""
        self._lock(lock)
        return self._faults is None or not self._faults.latch_would_stick(self.address, lock)

    def unlock_count(self, lock: int) -> int:
        """Pulses ordered for ``lock`` so far (counted when ordered)."""
        return self._lock(lock).unlocks

    # -- what goes on the wire
    def hook_bits(self, at: float) -> int:
        """Hook bits as the board reports them: polarity and lying sensors applied."""
        self.advance(at)
        engaged = sum(1 << i for i, lock in enumerate(self._locks) if lock.latched)
        bits = engaged
        if self.hook_polarity == "engaged_low":
            bits ^= (1 << self.n_locks) - 1
        if self._faults is not None:
            bits ^= self._faults.lying_mask(self.address, self.n_locks)
        return bits

    def item_bits(self) -> int:
        """IR bits (1 = item); always 0 on a board without IR strips."""
        if not self.ir_sensors:
            return 0
        return sum(1 << i for i, lock in enumerate(self._locks) if lock.item)
