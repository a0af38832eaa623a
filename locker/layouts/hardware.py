"""Board families and temperature sensors in a layout (hardware words, no hardware code).

A bus carries one **family** of boards (one RS485 adapter each: Kerong at 19,200 Bd and
relay boards at 9,600 Bd do not share a wire):

=============  ===========================================  =======================
family         board types (``[[board]] type``)              default type, baud
=============  ===========================================  =======================
kerong         cu16, cu12                                    cu16, 19200
xor8a          xor8a (the 8A/80 board, 8..50 channels)       xor8a, 9600
modbus-relay   modbus-relay-8, modbus-relay-16,              modbus-relay-8, 9600
               modbus-input-8 (inputs only)
=============  ===========================================  =======================

``[[sensor]]`` tables name a temperature sensor on a bus: ``id``, ``bus``, ``address``,
``type`` (``"xy-md02"``, a Modbus device, so only on a ``modbus-relay`` bus).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

KERONG = "kerong"
XOR8A = "xor8a"
MODBUS_RELAY = "modbus-relay"
FAMILY_TYPES: Mapping[str, tuple[str, ...]] = {
    KERONG: ("cu16", "cu12"),
    XOR8A: ("xor8a",),
    MODBUS_RELAY: ("modbus-relay-8", "modbus-relay-16", "modbus-input-8"),
}
FAMILIES = tuple(FAMILY_TYPES)
DEFAULT_TYPE: Mapping[str, str] = {KERONG: "cu16", XOR8A: "xor8a", MODBUS_RELAY: "modbus-relay-8"}
DEFAULT_BAUD: Mapping[str, int] = {KERONG: 19200, XOR8A: 9600, MODBUS_RELAY: 9600}
SENSOR_TYPES: Mapping[str, str] = {"xy-md02": MODBUS_RELAY}  # sensor type -> its bus family
MODBUS_ADDRESSES = range(1, 248)  # Modbus RTU device addresses (0 is broadcast)


@dataclass(frozen=True)
class SensorSpec:
    """One temperature sensor of the layout."""

    id: str
    bus: str
    address: int
    type: str = "xy-md02"
    line: int = 0


def family_of_type(board_type: str) -> str | None:
    """The family a board type belongs to, None for an unknown type."""
    return next((f for f, types in FAMILY_TYPES.items() if board_type in types), None)


def check_sensor(spec: SensorSpec, family: str, taken: Mapping[int, str]) -> str | None:
    """What is wrong with a sensor on a bus of ``family`` (``taken``: addresses in use on
    that bus, and by what), or None."""
    if spec.type not in SENSOR_TYPES:
        return f"unknown sensor type {spec.type!r} (known: {', '.join(SENSOR_TYPES)})"
    if SENSOR_TYPES[spec.type] != family:
        return f"a {spec.type} sensor needs a {SENSOR_TYPES[spec.type]} bus, not {family}"
    if spec.address not in MODBUS_ADDRESSES:
        return f"sensor address {spec.address} is outside 1..247"
    if spec.address in taken:
        return f"address {spec.address} on bus '{spec.bus}' is already {taken[spec.address]}"
    return None
