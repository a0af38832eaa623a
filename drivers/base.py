"""The shared part of every board type: bookkeeping and the unlock procedure.

A board type (one module, e.g. :mod:`drivers.kerong_cu16`) subclasses :class:`BoardBase`
and fills in small private hooks that speak its protocol: ``_read_raw`` (one board's
hook and IR bits), ``_pulse`` (send one unlock), ``_query_pulse``/``_set_pulse`` and,
optionally, ``_read_bus_raw`` (one request answered by every board on the line).
The public methods here do the rest: lock-number checks, hook polarity, IR presence, and
the unlock procedure of lock-protocol.md §10, which never pulses a lock twice without a
fresh reading in between.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Self, TypeVar

from drivers.board import (
    ENGAGED_HIGH,
    POLARITIES,
    BoardStatus,
    LockState,
    RawStatus,
    UnlockResult,
)
from drivers.counters import BoardFailures, FailureKind, FailureLog
from drivers.errors import BadFrame, BoardRefused, BusError, NoAnswer
from locker.testkit import crashpoints

if TYPE_CHECKING:
    from drivers.bus import LockBus
    from locker.layout import Board

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")

# Pulses at most per unlock: the second only after a fresh read showed the hook still
# engaged (lock-protocol.md §8 "Retries", §10).
MAX_PULSES = 2


class BoardBase(abc.ABC):
    """Shared bookkeeping of a board type; subclasses speak the protocol.

    :param bus: the line the board hangs on.
    :param address: the board's address (checked against ``ADDRESSES``).
    :param pulse_ms: the unlock pulse the board is set to; ``unlock`` waits this long
        plus ``release_margin_s`` before reading the hook.
    :param hook_polarity: ``"engaged_high"`` (bit 1 = engaged) or ``"engaged_low"``.
    :param ir_sensors: whether IR item strips are fitted; without them ``item_present``
        is None.
    :param release_margin_s: extra wait after the pulse (processing, latch, door spring).
    """

    TYPE: ClassVar[str]  # the name in the layout's [[board]] type and in the registry
    LOCKS: ClassVar[int]  # locks per board, numbered 1..LOCKS
    ADDRESSES: ClassVar[range]  # board addresses the protocol can reach
    HAS_IR: ClassVar[bool] = False  # the protocol reports IR item bits
    HAS_BUS_READ: ClassVar[bool] = False  # one request reads every board on the bus
    RELEASE_MARGIN_S: ClassVar[float] = 0.1  # default extra wait after the pulse
    CHANNELS: ClassVar[range | None] = None  # lock counts a board of this type may have
    #                                          (None: always LOCKS; the 8A/80 board: 8..50)
    PULSE_ANSWERED_AFTER: ClassVar[bool] = False  # the unlock's answer comes once the pulse
    #                                               is over, so only the margin is waited after

    def __init__(
        self,
        bus: LockBus,
        address: int,
        *,
        pulse_ms: int = 550,
        hook_polarity: str = ENGAGED_HIGH,
        ir_sensors: bool = True,
        release_margin_s: float | None = None,
        channels: int | None = None,
    ) -> None:
        if address not in self.ADDRESSES:
            raise ValueError(f"{self.TYPE} address {address} is outside {self._range_text()}")
        if hook_polarity not in POLARITIES:
            raise ValueError(f"hook_polarity must be one of {POLARITIES}, not {hook_polarity!r}")
        if pulse_ms < 0:
            raise ValueError("pulse_ms must not be negative")
        self._lock_count = self.LOCKS if channels is None else channels
        if channels is not None and channels not in (self.CHANNELS or (self.LOCKS,)):
            raise ValueError(f"a {self.TYPE} board cannot have {channels} channels")
        self.bus = bus
        self._address = address
        self.pulse_ms = pulse_ms
        self.hook_polarity = hook_polarity
        self.ir_sensors = ir_sensors and self.HAS_IR
        self.release_margin_s = (
            self.RELEASE_MARGIN_S if release_margin_s is None else release_margin_s
        )
        self._unlocking: Mapping[int, threading.Lock] = {
            n: threading.Lock() for n in range(1, self._lock_count + 1)
        }
        self._failures = FailureLog(address)

    @classmethod
    def from_layout(
        cls, bus: LockBus, board: Board, *, release_margin_s: float | None = None
    ) -> Self:
        """Build the board a layout ``[[board]]`` entry describes."""
        return cls(
            bus,
            board.address,
            pulse_ms=board.pulse_ms,
            hook_polarity=board.hook_polarity,
            ir_sensors=board.ir_sensors,
            release_margin_s=release_margin_s,
            channels=board.channels,
        )

    @classmethod
    def _range_text(cls) -> str:
        return f"{cls.ADDRESSES.start}..{cls.ADDRESSES.stop - 1}"

    @property
    def address(self) -> int:
        return self._address

    @property
    def lock_count(self) -> int:
        return self._lock_count

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.address} on {self.bus.url}>"

    # -- public API ---------------------------------------------------------------

    def status(self) -> BoardStatus:
        """Read every lock of the board in one exchange."""
        return self.decode_status(self._noted(self._read_raw))

    def start(self) -> None:
        """Bring the board to a safe state at start-up (relay boards: all relays off).

        :raises BusError: when the board did not hear it.
        """
        return None  # lock boards need nothing: a pulse ends by itself

    def wire_door(self, lock: int, board: BoardBase, number: int) -> None:
        """Read the door of ``lock`` from input ``number`` of ``board`` (relay boards only)."""
        raise ValueError(f"a {self.TYPE} board reads its doors itself")

    def failures(self) -> BoardFailures:
        """How this board's failed reads ended (silence, torn frame, bad checksum)."""
        return self._failures.snapshot()

    def unlock(self, lock: int) -> UnlockResult:
        """Pulse ``lock`` and report what a fresh read shows after the pulse.

        Pulse, wait ``pulse_ms`` + margin, read the board. Released: done. Still
        engaged: pulse once more and read again. Read-back failed: report
        ``released=None`` and never pulse again. Serialised per lock, so two callers
        cannot pulse the same lock at once.
        """
        self._check_lock(lock)
        with self._unlocking[lock]:
            return self._unlock_locked(lock)

    def query_pulse(self) -> int:
        """Ask the board for its pulse time (ms) and remember it for ``unlock``."""
        self.pulse_ms = self._noted(self._query_pulse)
        return self.pulse_ms

    def set_pulse(self, ms: int) -> int:
        """Store a new pulse time (ms) on the board; return what the board reports."""
        if ms < 0:
            raise ValueError("pulse time must not be negative")
        self.pulse_ms = self._noted(lambda: self._set_pulse(ms))
        return self.pulse_ms

    def decode_status(self, raw: RawStatus) -> BoardStatus:
        """Apply this board's hook polarity and IR presence to raw bits."""
        high = self.hook_polarity == ENGAGED_HIGH
        locks = []
        for n in range(self._lock_count):
            bit = bool(raw.hooks >> n & 1)
            item = None
            if self.ir_sensors and raw.items is not None:
                item = bool(raw.items >> n & 1)
            locks.append(LockState(hook_engaged=bit == high, item_present=item))
        return BoardStatus(self.address, tuple(locks))

    @classmethod
    def read_bus(cls, bus: LockBus, boards: Sequence[BoardBase]) -> dict[int, BoardStatus]:
        """Read several boards of this type on one bus; boards that did not answer are missing.

        Uses the protocol's whole-bus request where it has one, else one read per board.
        A board left out has how the attempts ended noted in its :meth:`failures` (on a
        whole-bus read, the attempts are the bus's: a checksum failure in one is put down
        to every board that did not answer).
        """
        wanted = {b.address: b for b in boards}
        if cls.HAS_BUS_READ and len(wanted) > 1:
            attempts: list[FailureKind] = []
            try:
                raw = cls._read_bus_raw(bus, sorted(wanted), attempts)
            except BusError as exc:
                _LOGGER.warning("whole-bus read on %s failed: %s", bus.url, exc)
                return {}
            for address, board in wanted.items():
                if address in raw:
                    board._failures.answered()
                else:
                    board._failures.failed(attempts)
            return {a: wanted[a].decode_status(r) for a, r in raw.items() if a in wanted}
        result: dict[int, BoardStatus] = {}
        for address, board in wanted.items():
            try:
                result[address] = board.status()
            except BusError as exc:
                _LOGGER.warning("board %d on %s: %s", address, bus.url, exc)
        return result

    # -- hooks a board type overrides ---------------------------------------------

    @abc.abstractmethod
    def _read_raw(self) -> RawStatus:
        """Read this board's hook and IR bits (may raise a BusError)."""

    @abc.abstractmethod
    def _pulse(self, lock: int) -> None:
        """Send the unlock for ``lock``; whatever answer the protocol has is checked here."""

    @abc.abstractmethod
    def _query_pulse(self) -> int:
        """The pulse time (ms) the board has stored."""

    @abc.abstractmethod
    def _set_pulse(self, ms: int) -> int:
        """Store a pulse time (ms); return what the board confirms."""

    @classmethod
    @abc.abstractmethod
    def _read_bus_raw(
        cls, bus: LockBus, addresses: Sequence[int], failures: list[FailureKind]
    ) -> dict[int, RawStatus]:
        """Read several boards of this type at once; used when ``HAS_BUS_READ``.

        ``failures`` gets how every attempt that missed a board ended (``LockBus.gather``).
        """

    # -- internals ----------------------------------------------------------------

    def _noted(self, read: Callable[[], T]) -> T:
        """Run one request to this board and note in :meth:`failures` how it ended."""
        try:
            value = read()
        except (NoAnswer, BadFrame) as exc:
            self._failures.failed(exc.attempts, exc.tries)
            raise
        self._failures.answered()
        return value

    def _check_lock(self, lock: int) -> None:
        if not 1 <= lock <= self._lock_count:
            raise ValueError(f"{self.TYPE} board has locks 1..{self._lock_count}, not {lock}")

    def _unlock_locked(self, lock: int) -> UnlockResult:
        pulses = 0
        state: LockState | None = None
        while pulses < MAX_PULSES:
            try:
                self._pulse(lock)
            except BoardRefused:
                if pulses == 0:
                    raise
                break  # the board refused the second pulse: the last reading stands
            except (NoAnswer, BadFrame) as exc:
                # a board that acknowledges unlocks (CU12) may have pulsed anyway: read back
                _LOGGER.warning(
                    "board %d lock %d: unlock not acknowledged: %s", self.address, lock, exc
                )
            except BusError:
                if pulses == 0:
                    raise  # the frame did not leave: nothing happened
                break
            pulses += 1
            crashpoints.reached(crashpoints.AFTER_UNLOCK_FRAME)
            waited = 0.0 if self.PULSE_ANSWERED_AFTER else self.pulse_ms / 1000
            time.sleep(waited + self.release_margin_s)
            try:
                state = self.status().lock(lock)
            except BusError as exc:
                _LOGGER.warning(
                    "board %d lock %d: read-back after pulse %d failed: %s",
                    self.address,
                    lock,
                    pulses,
                    exc,
                )
                return UnlockResult(self.address, lock, None, pulses, None)
            crashpoints.reached(crashpoints.AFTER_BOARD_ANSWER)
            if not state.hook_engaged:
                _LOGGER.info(
                    "board %d lock %d released after %d pulse(s)", self.address, lock, pulses
                )
                return UnlockResult(self.address, lock, True, pulses, state)
            _LOGGER.info(
                "board %d lock %d still engaged after pulse %d", self.address, lock, pulses
            )
        return UnlockResult(self.address, lock, False, pulses, state)
