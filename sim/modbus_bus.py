"""A simulated Modbus RTU bus: relay boards, input boards and XY-MD02 sensors.

Relay board n's relay r drives a lock (the :class:`~sim.model.SimBoard` model: latch,
door, parcel); the lock's door switch is an input of the same board (relay r ↔ input r)
or of any board ``wiring`` says. An input reads 1 when its door is shut and latched
(``engaged_high`` on the input's board; ``engaged_low`` inverts). Register map of
modbus-relay.md §3 (Waveshare protocol V3):

* FC01 coils 0..relays-1: a relay reads on while its flash runs or after an FF00 write;
* FC02 inputs 0..inputs-1; FC05 coil n (FF00 on: the lock lets go; 0000 off),
  0x00FF all (0000 all off), 0x0200+n flash on for value × 100 ms (the lock's pulse),
  0x0400+n flash off (the relay is switched off);
* a sensor answers FC04 register 0x0001 (°C × 10, signed) and 0x0002 (% RH × 10), FC03
  0x0101-0x0104 (address, baud code, offsets); its temperature can be set and drift.

Anything else is a Modbus exception (1 illegal function, 2 illegal address, 3 illegal
value). Faults as on every bus (:mod:`sim.faults`), plus ``EXCEPTION``; a silent sensor is
``GONE`` on its address. Broadcast writes (address 0) act on every board, unanswered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sim import codec_modbus as mb
from sim.bus import Answer, BoardConfig, SimBus
from sim.dialect import Dialect
from sim.faults import Fault
from sim.model import SimBoard
from sim.stream import StreamDecoder
from sim.timing import DEFAULT_PROCESSING_S

PROTOCOL = "modbus-relay"
ALL_RELAYS, FLASH_ON, FLASH_OFF = 0x00FF, 0x0200, 0x0400
ON, OFF = 0xFF00, 0x0000
BAUD_CODE = 2  # 9600 in the XY-MD02's holding register 0x0102 (inferred)


def _unused(*_args: object) -> Any:
    # Never called: the Kerong dialects answer through these per-request hooks, the Modbus
    # bus answers whole frames in ModbusSimBus.respond (the Dialect type requires them).
    raise NotImplementedError("the Modbus bus answers in ModbusSimBus.respond")


DIALECT: Dialect[mb.Request] = Dialect(
    name=PROTOCOL,
    n_locks=8,
    max_board=247,
    new_decoder=mb.new_decoder,
    targets=_unused,
    lock_of=lambda request: None,
    act=_unused,
    corrupt_at=lambda answer: 3 if len(answer) > 5 else 2,
    is_valid=lambda request: isinstance(request, mb.Request),
)


@dataclass
class SimSensor:
    """An XY-MD02: a temperature that may drift (°C per minute) from a set point."""

    celsius: float = 5.0
    humidity: float = 55.0
    drift_per_min: float = 0.0
    since: float = 0.0

    def temperature(self, at: float) -> float:
        return self.celsius + self.drift_per_min * (at - self.since) / 60


class ModbusSimBus(SimBus):
    """The devices of one Modbus bus.

    :param boards: address -> (relays, inputs), e.g. ``{1: (8, 8), 2: (16, 0), 3: (0, 8)}``.
    :param wiring: (input board, input) -> (relay board, relay) for door switches that are
        not on their relay's own board.
    :param sensors: address -> starting temperature (°C) of an XY-MD02.
    :param polarity: input boards whose inputs read 0 for a shut door (``engaged_low``).
    """

    DIALECTS = {PROTOCOL: DIALECT}

    def __init__(
        self,
        boards: Mapping[int, tuple[int, int]],
        *,
        wiring: Mapping[tuple[int, int], tuple[int, int]] | None = None,
        sensors: Mapping[int, float] | None = None,
        engaged_low: Iterable[int] = (),
        baud: int = 9600,
        pulse_ms: int = 500,
        processing_s: float = DEFAULT_PROCESSING_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        configs = {a: BoardConfig(locks=max(1, r)) for a, (r, _i) in boards.items()}
        super().__init__(
            PROTOCOL,
            addresses=list(boards) or [1],
            baud=baud,
            pulse_ms=pulse_ms,
            processing_s=processing_s,
            ir_sensors=False,
            boards=configs if boards else None,
            clock=clock,
        )
        self.shape = dict(boards)
        self._inputs: dict[tuple[int, int], tuple[int, int]] = {
            (a, n): (a, n) for a, (r, i) in boards.items() for n in range(1, min(r, i) + 1)
        }
        self._inputs.update(wiring or {})
        self._low = frozenset(engaged_low)
        self._coils: dict[int, set[int]] = {a: set() for a in boards}
        now = clock()
        self.sensors = {a: SimSensor(c, since=now) for a, c in (sensors or {}).items()}
        if set(self.sensors) & set(boards):
            raise ValueError("a sensor and a board share an address")
        self._sensor_lock = threading.Lock()

    # -- the world
    def set_temperature(self, address: int, celsius: float, drift_per_min: float = 0.0) -> None:
        """The sensor at ``address`` reads ``celsius`` now, drifting ``drift_per_min``."""
        with self._sensor_lock:
            sensor = self._sensor(address)
            sensor.celsius, sensor.drift_per_min, sensor.since = (
                celsius,
                drift_per_min,
                self.clock(),
            )

    def temperature(self, address: int) -> float:
        with self._sensor_lock:
            return round(self._sensor(address).temperature(self.clock()), 1)

    def relays_on(self, board: int) -> int:
        """Relay bits now (bit r-1 = relay r on)."""
        with self._lock:
            return self._coil_bits(board, self.clock())

    def check_address(self, address: int) -> None:
        if address not in self.sensors:
            self.board(address)

    def _sensor(self, address: int) -> SimSensor:
        try:
            return self.sensors[address]
        except KeyError:
            raise ValueError(f"no sensor at {address} on this bus") from None

    # -- behaviour
    def respond(self, frame: object, at: float) -> list[Answer]:
        assert isinstance(frame, mb.Request)
        with self._lock:
            if frame.device == 0:
                for address in self.shape:
                    self._act(frame, address, at)
                return []
            present = frame.device in self.shape or frame.device in self.sensors
            if not present or self.faults.take(Fault.GONE, frame.device) is not None:
                return []
            failure = self.faults.take(Fault.EXCEPTION, frame.device)
            if failure is not None:
                code = mb.DEVICE_FAILURE if failure.n is None else failure.n
                data: bytes | None = mb.exception_answer(frame.device, frame.function, code)
            elif frame.device in self.sensors:
                data = self._sensor_answer(frame, at)
            else:
                data = self._act(frame, frame.device, at)
            if data is None:
                return []
            shaped, delay = self.faults.shape_answer(
                frame.device, None, data, self.dialect.corrupt_at(data)
            )
        return [] if shaped is None else [Answer(frame.device, shaped, delay)]

    def _act(self, req: mb.Request, address: int, at: float) -> bytes | None:
        relays, inputs = self.shape[address]
        board = self._boards[address]
        fn, dev = req.function, req.device
        if fn in (1, 2):
            first, count = req.word(0), req.word(1)
            limit = relays if fn == 1 else inputs
            if not 1 <= count <= 2000:
                return mb.exception_answer(dev, fn, mb.ILLEGAL_VALUE)
            if first + count > limit:
                return mb.exception_answer(dev, fn, mb.ILLEGAL_ADDRESS)
            bits = self._coil_bits(address, at) if fn == 1 else self._input_bits(address, at)
            return mb.bits_answer(dev, fn, [bool(bits >> (first + i) & 1) for i in range(count)])
        if fn != 5:
            return mb.exception_answer(dev, fn, mb.ILLEGAL_FUNCTION)
        register, value = req.word(0), req.word(1)
        if register < relays or register == ALL_RELAYS:
            if value not in (ON, OFF):
                return mb.exception_answer(dev, fn, mb.ILLEGAL_VALUE)
            targets = range(relays) if register == ALL_RELAYS else [register]
            for relay in targets:
                self._set_coil(board, address, relay, value == ON, at)
        elif FLASH_ON <= register < FLASH_ON + relays:
            board.pulse_ms = value * 100
            board.unlock(register - FLASH_ON + 1, at)
        elif FLASH_OFF <= register < FLASH_OFF + relays:
            self._set_coil(board, address, register - FLASH_OFF, False, at)
        else:
            return mb.exception_answer(dev, fn, mb.ILLEGAL_ADDRESS)
        return req.to_bytes()  # FC05 answers with the request echoed

    def _set_coil(self, board: SimBoard, address: int, relay: int, on: bool, at: float) -> None:
        coils = self._coils[address]
        if on:
            coils.add(relay)
            board.release_latch(relay + 1, at)  # an energised lock lets go
        else:
            coils.discard(relay)

    def _coil_bits(self, address: int, at: float) -> int:
        relays, _ = self.shape[address]
        board = self._boards[address]
        on = set(self._coils[address])
        on |= {r for r in range(relays) if board.lock_state(r + 1, at).pulsing}
        return sum(1 << r for r in on)

    def _input_bits(self, address: int, at: float) -> int:
        _, inputs = self.shape[address]
        bits = 0
        for n in range(1, inputs + 1):
            source = self._inputs.get((address, n))
            if source is None:
                shut = False  # nothing wired: an open circuit
            else:
                relay_board, relay = source
                hooks = self._boards[relay_board].hook_bits(at)
                shut = bool(hooks >> (relay - 1) & 1)
            if shut != (address in self._low):
                bits |= 1 << (n - 1)
        return bits

    def _sensor_answer(self, req: mb.Request, at: float) -> bytes:
        fn, dev = req.function, req.device
        first, count = req.word(0), req.word(1)
        with self._sensor_lock:
            sensor = self.sensors[dev]
            if fn == 4 and first >= 1 and first + count <= 3 and count >= 1:
                values = [round(sensor.temperature(at) * 10), round(sensor.humidity * 10)]
                return mb.registers_answer(dev, fn, values[first - 1 : first - 1 + count])
            if fn == 3 and first >= 0x0101 and first + count <= 0x0105 and count >= 1:
                values = [dev, BAUD_CODE, 0, 0]
                return mb.registers_answer(dev, fn, values[first - 0x0101 : first - 0x0101 + count])
        if fn in (3, 4):
            return mb.exception_answer(dev, fn, mb.ILLEGAL_ADDRESS)
        return mb.exception_answer(dev, fn, mb.ILLEGAL_FUNCTION)

    def new_decoder(self) -> StreamDecoder[Any]:
        return mb.new_decoder()
