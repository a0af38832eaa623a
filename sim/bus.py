"""SimBus: the boards of one RS485 bus, their faults, and what the host has sent them.

Transport-free: :mod:`sim.server` moves the bytes and keeps the time; this class decides what
happens (:meth:`SimBus.respond`) and keeps the record. Every method is thread-safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from sim import respond_cu12, respond_cu16, respond_xor8a
from sim.dialect import Dialect
from sim.faults import Fault, FaultSet
from sim.model import DEFAULT_PULSE_MS, FLASH_WRITE_S, HookPolarity, LockState, SimBoard
from sim.stream import StreamDecoder
from sim.timing import DEFAULT_BAUD, DEFAULT_PROCESSING_S, byte_time_s

_LOGGER = logging.getLogger(__name__)

DIALECTS: dict[str, Dialect[Any]] = {
    "cu16": respond_cu16.DIALECT,
    "cu12": respond_cu12.DIALECT,
    "xor8a": respond_xor8a.DIALECT,
}


class BoardConfig(TypedDict, total=False):
    """Per-board overrides of the bus-wide defaults (``SimBus(boards={address: {...}})``)."""

    pulse_ms: int
    hook_polarity: HookPolarity
    ir_sensors: bool
    flash_write_s: float
    locks: int  # locks of a board whose count varies (the 8A/80 board: 8..50)


@dataclass(frozen=True)
class Answer:
    """One board's answer, faults applied: the bytes to send and an extra delay before them."""

    board: int
    data: bytes
    delay_s: float = 0.0


class SimBus:
    """The boards on one simulated bus.

    :param protocol: ``"cu16"`` or ``"cu12"``.
    :param addresses: the boards' DIP addresses (CU16 0-9, CU12 0-15).
    :param baud: the line rate the host uses; boards start at it. Changing ``bus.baud`` later
        models a host at another rate: boards at a different rate then hear nothing.
    :param processing_s: the board's reaction time before it acts and answers.
    :param pulse_ms, hook_polarity, ir_sensors, flash_write_s: defaults for every board.
    :param boards: per-address overrides of those four, e.g. ``{1: {"pulse_ms": 20}}``.
    :param clock: the monotonic clock used for the model and the record.
    """

    DIALECTS: dict[str, Dialect[Any]] = DIALECTS

    def __init__(
        self,
        protocol: str = "cu16",
        addresses: Iterable[int] = (0,),
        baud: int = DEFAULT_BAUD,
        pulse_ms: int = DEFAULT_PULSE_MS,
        processing_s: float = DEFAULT_PROCESSING_S,
        hook_polarity: HookPolarity = "engaged_high",
        ir_sensors: bool = True,
        flash_write_s: float = FLASH_WRITE_S,
        boards: Mapping[int, BoardConfig] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if protocol not in self.DIALECTS:
            raise ValueError(f"protocol must be one of {sorted(self.DIALECTS)}")
        self.dialect = self.DIALECTS[protocol]
        self.protocol = protocol
        self.baud = baud
        self.processing_s = processing_s
        self.clock = clock
        self.faults = FaultSet()
        self._lock = threading.RLock()
        self._frames: list[tuple[float, bytes]] = []
        self._bad_frames = 0
        wanted = sorted(set(addresses))
        if not wanted or not all(0 <= a <= self.dialect.max_board for a in wanted):
            raise ValueError(f"addresses must be 0..{self.dialect.max_board}, at least one")
        overrides = dict(boards or {})
        if unknown := set(overrides) - set(wanted):
            raise ValueError(f"overrides for boards not on the bus: {sorted(unknown)}")
        self._boards: dict[int, SimBoard] = {}
        for address in wanted:
            config = overrides.get(address, BoardConfig())
            self._boards[address] = SimBoard(
                address,
                config.get("locks", self.dialect.n_locks),
                pulse_ms=config.get("pulse_ms", pulse_ms),
                hook_polarity=config.get("hook_polarity", hook_polarity),
                ir_sensors=config.get("ir_sensors", ir_sensors),
                flash_write_s=config.get("flash_write_s", flash_write_s),
                baud=baud,
                faults=self.faults,
            )

    # -- the boards and the world around them
    @property
    def addresses(self) -> list[int]:
        return list(self._boards)

    def board(self, address: int) -> SimBoard:
        """The board at ``address`` (hold no reference across threads without ``locked``)."""
        try:
            return self._boards[address]
        except KeyError:
            raise ValueError(f"no board {address} on this bus") from None

    def check_address(self, address: int) -> None:
        """:raises ValueError: when nothing on this bus has ``address``."""
        self.board(address)

    def locked(self) -> threading.RLock:
        """The bus lock, for a test that changes several boards at once."""
        return self._lock

    def close_door(self, board: int, lock: int) -> None:
        with self._lock:
            self.board(board).close_door(lock, self.clock())

    def release_latch(self, board: int, lock: int) -> None:
        """Release a latch by hand, no pulse, not counted as an unlock (for setting up tests)."""
        with self._lock:
            self.board(board).release_latch(lock, self.clock())

    def open_door(self, board: int, lock: int) -> None:
        with self._lock:
            self.board(board).open_door(lock, self.clock())

    def put_item(self, board: int, lock: int) -> None:
        with self._lock:
            self.board(board).put_item(lock)

    def take_item(self, board: int, lock: int) -> None:
        with self._lock:
            self.board(board).take_item(lock)

    def lock_state(self, board: int, lock: int) -> LockState:
        with self._lock:
            return self.board(board).lock_state(lock, self.clock())

    def unlock_count(self, board: int, lock: int) -> int:
        with self._lock:
            return self.board(board).unlock_count(lock)

    # -- faults
    def inject(
        self,
        fault: Fault,
        board: int | None = None,
        lock: int | None = None,
        count: int | None = None,
        delay_s: float = 0.0,
        n: int | None = None,
    ) -> None:
        """Switch a fault on (see :mod:`sim.faults`); ``board=None`` = every board."""
        if board is not None:
            self.check_address(board)
        most = max(b.n_locks for b in self._boards.values())
        if lock is not None and not 1 <= lock <= most:
            raise ValueError(f"lock {lock} outside 1..{most}")
        self.faults.inject(fault, board=board, lock=lock, count=count, delay_s=delay_s, n=n)

    def clear_faults(self, board: int | None = None, lock: int | None = None) -> None:
        self.faults.clear(board=board, lock=lock)

    # -- the record
    @property
    def frames_received(self) -> list[tuple[float, bytes]]:
        """``(modelled time of the last byte, bytes)`` of every valid host frame, in order."""
        with self._lock:
            return list(self._frames)

    @property
    def bad_frames(self) -> int:
        """Frames dropped for a wrong ETX or checksum (CU12: also those answered ASK 0x14)."""
        with self._lock:
            return self._bad_frames

    @property
    def byte_time_s(self) -> float:
        return byte_time_s(self.baud)

    def new_decoder(self) -> StreamDecoder[Any]:
        return self.dialect.new_decoder()

    def record(self, frame: object, raw: bytes, received_at: float) -> None:
        """Note a decoded host frame (valid ones go to :attr:`frames_received`)."""
        _LOGGER.debug("rx %s", raw.hex(" "))
        if self.dialect.is_valid(frame):
            with self._lock:
                self._frames.append((received_at, raw))

    def count_bad(self, n: int) -> None:
        if n:
            with self._lock:
                self._bad_frames += n

    # -- behaviour
    def respond(self, frame: object, at: float) -> list[Answer]:
        """Let every addressed board act on ``frame`` at time ``at``; their answers in order."""
        dialect = self.dialect
        lock = dialect.lock_of(frame)
        answers: list[Answer] = []
        with self._lock:
            for address in dialect.targets(frame, list(self._boards)):
                board = self._boards[address]
                if self.faults.take(Fault.GONE, address, lock) is not None:
                    _LOGGER.debug("board %d: gone, frame ignored", address)
                    continue
                if board.baud != self.baud:
                    _LOGGER.debug("board %d: listens at %d bit/s, hears noise", address, board.baud)
                    continue
                if board.is_busy(at):
                    _LOGGER.debug("board %d: writing flash, frame ignored", address)
                    continue
                data = dialect.act(frame, board, at)
                if data is None:
                    continue
                shaped, delay = self.faults.shape_answer(
                    address, lock, data, dialect.corrupt_at(data)
                )
                if shaped is not None:
                    delay += dialect.answer_delay(frame, board)
                    answers.append(Answer(address, shaped, delay))
        return answers
