"""A whole simulated station: one :class:`SimBus` per layout bus, and hands by compartment.

``locker serve`` with no hardware, the demo and the station-level tests use it: the
layout says which boards sit on which bus; :class:`SimStation` builds those boards with
the layout's pulse time, hook polarity and IR strips, serves each bus on a pty (the
driver opens it like a real port), and lets a person's actions be played by compartment
number: close a door, put a parcel in, take it out, jam a lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from locker.layout import SIM_PORT, Bus, Layout
from sim.bus import BoardConfig, SimBus
from sim.faults import Fault
from sim.modbus_bus import ModbusSimBus
from sim.model import LockState
from sim.server import serve_pty, serve_tcp

# layout board type -> simulator protocol
PROTOCOLS = {"cu16": "cu16", "cu12": "cu12", "xor8a": "xor8a"}
MODBUS_SHAPES = {"modbus-relay-8": (8, 8), "modbus-relay-16": (16, 0), "modbus-input-8": (0, 8)}
SENSOR_START_C = 5.0  # a sensor starts in the middle of the chilled band


class SimStation:
    """Simulated buses for a layout: those whose port is ``"sim"``, or all when ``every_bus``."""

    def __init__(
        self, layout: Layout, *, every_bus: bool = False, processing_s: float | None = None
    ) -> None:
        self.layout = layout
        self.buses: dict[str, SimBus] = {}
        for spec in layout.buses:
            if spec.port != SIM_PORT and not every_bus:
                continue
            boards = layout.boards_on(spec.id)
            if spec.family == "modbus-relay":
                self.buses[spec.id] = self._modbus(spec, processing_s)
                continue
            types = {b.type for b in boards}
            if len(types) != 1 or next(iter(types)) not in PROTOCOLS:
                raise ValueError(f"bus '{spec.id}': the simulator plays one of {list(PROTOCOLS)}")
            extra = {} if processing_s is None else {"processing_s": processing_s}
            self.buses[spec.id] = SimBus(
                protocol=PROTOCOLS[next(iter(types))],
                addresses=[b.address for b in boards],
                baud=spec.baud,
                boards={
                    b.address: BoardConfig(
                        pulse_ms=b.pulse_ms,
                        hook_polarity="engaged_low"
                        if b.hook_polarity == "engaged_low"
                        else "engaged_high",
                        ir_sensors=b.ir_sensors,
                        **({"locks": b.channels} if b.channels else {}),
                    )
                    for b in boards
                },
                **extra,  # type: ignore[arg-type]
            )

    def _modbus(self, spec: Bus, processing_s: float | None) -> ModbusSimBus:
        layout = self.layout
        boards = layout.boards_on(spec.id)
        wiring = {
            c.door_input: (c.board, c.lock)
            for c in layout.compartments
            if c.bus == spec.id and c.door_input != (c.board, c.lock)
        }
        extra = {} if processing_s is None else {"processing_s": processing_s}
        return ModbusSimBus(
            {b.address: MODBUS_SHAPES[b.type] for b in boards},
            wiring=wiring,
            sensors={s.address: SENSOR_START_C for s in layout.sensors if s.bus == spec.id},
            engaged_low=[b.address for b in boards if b.hook_polarity == "engaged_low"],
            baud=spec.baud,
            **extra,  # type: ignore[arg-type]
        )

    # -- sensors --------------------------------------------------------------------------
    def _sensor(self, sensor_id: str) -> tuple[ModbusSimBus, int]:
        spec = next((s for s in self.layout.sensors if s.id == sensor_id), None)
        if spec is None:
            raise ValueError(f"no sensor '{sensor_id}' in the layout")
        bus = self.buses[spec.bus]
        assert isinstance(bus, ModbusSimBus)
        return bus, spec.address

    def set_temperature(self, sensor_id: str, celsius: float, drift_per_min: float = 0.0) -> None:
        """The sensor reads ``celsius`` now and drifts ``drift_per_min`` °C a minute."""
        bus, address = self._sensor(sensor_id)
        bus.set_temperature(address, celsius, drift_per_min)

    def temperature(self, sensor_id: str) -> float:
        bus, address = self._sensor(sensor_id)
        return bus.temperature(address)

    def silence_sensor(self, sensor_id: str, silent: bool = True) -> None:
        """A sensor that does not answer (or answers again)."""
        bus, address = self._sensor(sensor_id)
        if silent:
            bus.inject(Fault.GONE, board=address)
        else:
            bus.clear_faults(board=address)

    @contextmanager
    def serve(self, transport: str = "pty") -> Iterator[dict[str, str]]:
        """Serve every simulated bus; yields the port URL per bus id for ``SerialLocks``."""
        with ExitStack() as stack:
            ports = {
                bus_id: stack.enter_context(
                    serve_pty(bus) if transport == "pty" else serve_tcp(bus)
                )
                for bus_id, bus in self.buses.items()
            }
            yield ports

    def _where(self, compartment: int) -> tuple[SimBus, int, int]:
        spec = self.layout.compartment(compartment)  # type: ignore[arg-type]
        return self.buses[spec.bus], spec.board, spec.lock

    # -- hands ----------------------------------------------------------------------------
    def close(self, compartment: int) -> None:
        bus, board, lock = self._where(compartment)
        bus.close_door(board, lock)

    def put(self, compartment: int) -> None:
        bus, board, lock = self._where(compartment)
        bus.put_item(board, lock)

    def take(self, compartment: int) -> None:
        bus, board, lock = self._where(compartment)
        bus.take_item(board, lock)

    def jam(self, compartment: int, jammed: bool = True) -> None:
        """A latch that will not release (or repaired again)."""
        bus, board, lock = self._where(compartment)
        if jammed:
            bus.inject(Fault.STUCK_LATCH, board=board, lock=lock)
        else:
            bus.clear_faults(board=board, lock=lock)

    def open(self, compartment: int) -> None:
        """Pull the door open (only an unlatched door moves)."""
        bus, board, lock = self._where(compartment)
        bus.open_door(board, lock)

    def inject(self, compartment: int, fault: Fault, *, count: int | None = None) -> None:
        """A fault on the compartment's board; lock-level faults touch only its lock."""
        bus, board, lock = self._where(compartment)
        per_lock = fault in (Fault.STUCK_LATCH, Fault.LYING_SENSOR)
        bus.inject(fault, board=board, lock=lock if per_lock else None, count=count)

    def repair(self, compartment: int) -> None:
        """Clear every fault of the compartment's board (its locks' faults included)."""
        bus, board, _lock = self._where(compartment)
        bus.clear_faults(board=board)

    def faults(self, compartment: int) -> list[Fault]:
        """The faults now active on the compartment's board that touch its lock."""
        bus, board, lock = self._where(compartment)
        return [i.fault for i in bus.faults.active() if i.matches(board, lock)]

    def state(self, compartment: int) -> LockState:
        bus, board, lock = self._where(compartment)
        return bus.lock_state(board, lock)

    def pulses(self, compartment: int) -> int:
        bus, board, lock = self._where(compartment)
        return bus.unlock_count(board, lock)

    def holds(self, compartment: int) -> bool:
        """Whether something lies in the compartment."""
        return self.state(compartment).item

    def is_open(self, compartment: int) -> bool:
        bus, board, lock = self._where(compartment)
        return bus.lock_state(board, lock).door_open
