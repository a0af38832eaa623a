"""Modbus RTU relay boards as lock boards (Waveshare "Modbus RTU Relay (D)" and kin).

A relay per lock, a digital input per door switch (modbus-relay.md §3-4):

* the pulse is timed by the board: a **flash-on** write (FC05 to 0x0200 + n, value = the
  pulse in 100 ms steps), never "on, sleep, off" from the host, so a host that dies
  mid-pulse leaves no lock energised; :meth:`ModbusBoard.start` writes "all relays off";
* the door's truth is its input (FC02), read after the pulse: relay n ↔ input n on the
  same board by default, or any board and input the layout maps (``input_board``,
  ``input``), e.g. a 16-relay board whose door switches sit on an input board;
* a flash whose answer is lost is never resent blindly: the base procedure reads the
  input first (:class:`drivers.base.BoardBase`).

``hook_polarity`` is the input's sense on the board that has the input:
``engaged_high`` = input on (switch closed) means the door is shut. The 16-relay board's
flash range 0x0200-0x020F is inferred from the 8-relay board's map (modbus-relay.md §3).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import ClassVar

from pymodbus.pdu.bit_message import (
    ReadCoilsResponse,
    ReadDiscreteInputsResponse,
    WriteSingleCoilResponse,
)

from drivers import modbus_rtu
from drivers.base import BoardBase
from drivers.board import ENGAGED_HIGH, BoardStatus, LockState, RawStatus
from drivers.bus import LockBus
from drivers.counters import FailureKind
from drivers.errors import BusError

_LOGGER = logging.getLogger(__name__)

ALL_RELAYS = 0x00FF  # FC05: 0000 all off, FF00 all on
FLASH_ON = 0x0200  # FC05 to 0x0200 + n: relay n on for value × 100 ms
FLASH_STEP_MS = 100
MAX_FLASH_STEPS = 0xFFFF
BAUD = 9600


def flash_steps(pulse_ms: int) -> int:
    """The flash value for a pulse of ``pulse_ms`` (rounded up, at least one step)."""
    return min(MAX_FLASH_STEPS, max(1, math.ceil(pulse_ms / FLASH_STEP_MS)))


class ModbusBoard(BoardBase):
    """A Modbus RTU relay or input board on a :class:`LockBus` (addresses 1-247)."""

    ADDRESSES: ClassVar[range] = range(1, 248)
    HAS_IR: ClassVar[bool] = False
    HAS_BUS_READ: ClassVar[bool] = False
    RELAYS: ClassVar[int]
    INPUTS: ClassVar[int]
    RELEASE_MARGIN_S: ClassVar[float] = 0.1

    def __init__(
        self,
        bus: LockBus,
        address: int,
        *,
        pulse_ms: int = 500,
        hook_polarity: str = ENGAGED_HIGH,
        ir_sensors: bool = False,
        release_margin_s: float | None = None,
        channels: int | None = None,
    ) -> None:
        super().__init__(
            bus,
            address,
            pulse_ms=pulse_ms,
            hook_polarity=hook_polarity,
            ir_sensors=ir_sensors,
            release_margin_s=release_margin_s,
            channels=channels,
        )
        self.pulse_ms = flash_steps(self.pulse_ms) * FLASH_STEP_MS
        own = range(1, min(self.RELAYS, self.INPUTS) + 1)
        self._doors: dict[int, tuple[ModbusBoard, int]] = {n: (self, n) for n in own}
        self._relays_cleared = False

    def wire_door(self, lock: int, board: BoardBase, number: int) -> None:
        """The door of relay ``lock`` is reported by input ``number`` of ``board``."""
        self._check_lock(lock)
        if not isinstance(board, ModbusBoard):
            raise ValueError(f"board {board.address} is no Modbus board")
        if not 1 <= number <= board.INPUTS:
            raise ValueError(f"board {board.address} has inputs 1..{board.INPUTS}, not {number}")
        self._doors[lock] = (board, number)

    # -- what the board offers beyond the lock protocol -----------------------------

    def start(self) -> None:
        """All relays off (start-up, and again before an unlock if it was not heard)."""
        if self.RELAYS:
            frame = modbus_rtu.write_coil(self.address, ALL_RELAYS, False)
            self._noted(
                lambda: modbus_rtu.ask(
                    self.bus,
                    frame,
                    self.address,
                    WriteSingleCoilResponse,
                    lambda p: p.address == ALL_RELAYS,
                )
            )
        self._relays_cleared = True

    def read_input_bits(self) -> int:
        """The inputs as read (bit n-1 = input n, 1 = on), polarity not applied."""
        frame = modbus_rtu.read_inputs(self.address, 0, self.INPUTS)
        pdu = self._noted(
            lambda: modbus_rtu.ask(self.bus, frame, self.address, ReadDiscreteInputsResponse)
        )
        return sum(1 << i for i, on in enumerate(pdu.bits[: self.INPUTS]) if on)

    def read_relay_bits(self) -> int:
        """The relays now (bit n-1 = relay n energised): FC01."""
        frame = modbus_rtu.read_coils(self.address, 0, self.RELAYS)
        pdu = self._noted(lambda: modbus_rtu.ask(self.bus, frame, self.address, ReadCoilsResponse))
        return sum(1 << i for i, on in enumerate(pdu.bits[: self.RELAYS]) if on)

    def shut_bits(self) -> int:
        """Which inputs say "door shut" (this board's polarity applied)."""
        bits = self.read_input_bits()
        if self.hook_polarity != ENGAGED_HIGH:
            bits ^= (1 << self.INPUTS) - 1
        return bits

    # -- BoardBase hooks -------------------------------------------------------------

    def status(self) -> BoardStatus:
        """Every relay's door, read from the inputs it is wired to (one read per board)."""
        return self.decode_status(self._read_raw())

    def _read_raw(self) -> RawStatus:
        sources = {id(board): board for board, _n in self._doors.values()}
        shut = {key: board.shut_bits() for key, board in sources.items()}
        engaged = 0
        for lock, (board, number) in self._doors.items():
            if shut[id(board)] >> (number - 1) & 1:
                engaged |= 1 << (lock - 1)
        return RawStatus(engaged, None)

    def decode_status(self, raw: RawStatus) -> BoardStatus:
        """Polarity was applied by the board that has the input (:meth:`shut_bits`)."""
        locks = tuple(
            LockState(hook_engaged=bool(raw.hooks >> n & 1), item_present=None)
            for n in range(self.lock_count)
        )
        return BoardStatus(self.address, locks)

    def _pulse(self, lock: int) -> None:
        if not self.RELAYS:
            raise ValueError(f"a {self.TYPE} board drives no lock")
        if lock not in self._doors:
            raise ValueError(f"relay {lock} of board {self.address} has no door input wired")
        if not self._relays_cleared:
            try:
                self.start()
            except BusError as exc:
                _LOGGER.warning("board %d: all-off not heard: %s", self.address, exc)
        steps = flash_steps(self.pulse_ms)
        register = FLASH_ON + lock - 1
        modbus_rtu.ask(
            self.bus,
            modbus_rtu.flash_on(self.address, register, steps),
            self.address,
            modbus_rtu.FlashOnRequest,
            lambda p: p.address == register and p.delay == steps,
            retries=0,
        )

    def _query_pulse(self) -> int:
        return self.pulse_ms  # each flash carries its own time: nothing is stored on the board

    def _set_pulse(self, ms: int) -> int:
        return flash_steps(ms) * FLASH_STEP_MS

    @classmethod
    def _read_bus_raw(
        cls, bus: LockBus, addresses: Sequence[int], failures: list[FailureKind]
    ) -> dict[int, RawStatus]:
        # Never called: HAS_BUS_READ is False, Modbus has no broadcast read (read_bus reads
        # board by board); the base class requires the method.
        raise NotImplementedError("Modbus has no whole-bus read")


class Relay8Board(ModbusBoard):
    """Waveshare Modbus RTU Relay (D): 8 relays, 8 digital inputs."""

    TYPE: ClassVar[str] = "modbus-relay-8"
    LOCKS: ClassVar[int] = 8
    RELAYS: ClassVar[int] = 8
    INPUTS: ClassVar[int] = 8


class Relay16Board(ModbusBoard):
    """The 16-relay sibling: 16 relays, no inputs (door switches on an input board)."""

    TYPE: ClassVar[str] = "modbus-relay-16"
    LOCKS: ClassVar[int] = 16
    RELAYS: ClassVar[int] = 16
    INPUTS: ClassVar[int] = 0


class InputBoard(ModbusBoard):
    """An 8-input board used for door switches only (no lock of its own)."""

    TYPE: ClassVar[str] = "modbus-input-8"
    LOCKS: ClassVar[int] = 8
    RELAYS: ClassVar[int] = 0
    INPUTS: ClassVar[int] = 8


def probe(bus: LockBus, address: int) -> tuple[int, int] | None:
    """(relays, inputs) a device at ``address`` answers for, None when it is silent.

    Tries 16 coils, then 8; 8 inputs. A device that answers neither (a sensor) is None.
    """
    relays = 0
    for count in (16, 8):
        try:
            modbus_rtu.ask(
                bus, modbus_rtu.read_coils(address, 0, count), address, ReadCoilsResponse, retries=0
            )
        except BusError:
            continue
        relays = count
        break
    try:
        modbus_rtu.ask(
            bus,
            modbus_rtu.read_inputs(address, 0, 8),
            address,
            ReadDiscreteInputsResponse,
            retries=0,
        )
        inputs = 8
    except BusError:
        inputs = 0
    return (relays, inputs) if relays or inputs else None
