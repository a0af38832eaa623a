"""The XY-MD02 (SHT20) temperature sensor on a Modbus bus (modbus-relay.md §6).

FC04 input register 0x0001 = temperature × 10, signed, °C (0x0002 = humidity × 10). It
shares the bus (port, deadlines, retries, counters) with the relay boards of that bus.
Implements :class:`locker.sensors.Thermometer`.
"""

from __future__ import annotations

import logging

from pymodbus.pdu.register_message import ReadInputRegistersResponse

from drivers import modbus_rtu
from drivers.bus import LockBus
from drivers.errors import BusError

_LOGGER = logging.getLogger(__name__)

TEMPERATURE = 0x0001
HUMIDITY = 0x0002
SCALE = 10


def signed(register: int) -> int:
    """A 16-bit register as a two's-complement number."""
    return register - 0x10000 if register & 0x8000 else register


class XyMd02:
    """One XY-MD02 at ``address`` on ``bus``; reads are retried as the bus retries reads."""

    TYPE = "xy-md02"

    def __init__(self, bus: LockBus, address: int, sensor_id: str = "") -> None:
        if not 1 <= address <= 247:
            raise ValueError(f"Modbus address {address} is outside 1..247")
        self.bus = bus
        self.address = address
        self.sensor_id = sensor_id or f"{bus.url}#{address}"

    def __repr__(self) -> str:
        return f"<XyMd02 {self.sensor_id} at {self.address} on {self.bus.url}>"

    def read_registers(self) -> tuple[float, float]:
        """(°C, % relative humidity). :raises BusError: when the sensor did not answer."""
        frame = modbus_rtu.read_input_registers(self.address, TEMPERATURE, 2)
        pdu = modbus_rtu.ask(
            self.bus,
            frame,
            self.address,
            ReadInputRegistersResponse,
            lambda p: len(p.registers) == 2,
        )
        return signed(pdu.registers[0]) / SCALE, pdu.registers[1] / SCALE

    def read_celsius(self) -> float | None:
        """The temperature now, None when the sensor did not answer (never raises for it)."""
        frame = modbus_rtu.read_input_registers(self.address, TEMPERATURE, 1)
        try:
            pdu = modbus_rtu.ask(
                self.bus,
                frame,
                self.address,
                ReadInputRegistersResponse,
                lambda p: len(p.registers) == 1,
            )
        except BusError as exc:
            _LOGGER.warning("sensor %s did not answer: %s", self.sensor_id, exc)
            return None
        return signed(pdu.registers[0]) / SCALE
