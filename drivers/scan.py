"""``locker hw scan``: which boards of a family answer on a bus, and what they say.

Kerong: one whole-bus status read per board type (CU16 0x32, CU12 0x80 to 0x10), then the
CU12's version (0x8F). The 8A/80 board: a read-all to every DIP address 1-31 (the answer's
length gives the channels, rounded up to 8). Modbus: coils and inputs of every address
asked (relays 16 or 8, inputs 8), then the XY-MD02's temperature register for devices
that have neither. Boards do not tell their firmware except the CU12.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drivers.bus import LockBus
from drivers.errors import BusError
from drivers.kerong_cu12 import ANSWER_RULE, CMD_VERSION, Cu12Board, Cu12Frame
from drivers.kerong_cu16 import Cu16Board

DEFAULT_ADDRESSES = {"kerong": range(0, 16), "xor8a": range(1, 32), "modbus-relay": range(1, 33)}


@dataclass(frozen=True)
class Found:
    """One device that answered."""

    family: str
    type: str
    address: int
    channels: int  # locks or relays (0 for a sensor or an input board)
    inputs: int = 0
    firmware: str = "-"
    reading: str = "-"  # a sensor's temperature

    def line(self) -> str:
        return (
            f"{self.family} {self.type} {self.address} {self.channels} {self.inputs} "
            f"{self.firmware} {self.reading}"
        )


HEADER = "family type address channels inputs firmware reading"


def scan(bus: LockBus, family: str, addresses: Iterable[int] | None = None) -> list[Found]:
    """Every device of ``family`` that answers on ``bus`` (address order)."""
    wanted = list(DEFAULT_ADDRESSES[family] if addresses is None else addresses)
    if family == "kerong":
        return _kerong(bus, wanted)
    if family == "xor8a":
        return _xor8a(bus, wanted)
    return _modbus(bus, wanted)


def _kerong(bus: LockBus, wanted: list[int]) -> list[Found]:
    found: list[Found] = []
    cu16 = [Cu16Board(bus, a) for a in wanted if a in Cu16Board.ADDRESSES]
    for address in sorted(Cu16Board.read_bus(bus, cu16)):
        found.append(Found("kerong", "cu16", address, Cu16Board.LOCKS))
    cu12 = [Cu12Board(bus, a) for a in wanted if a in Cu12Board.ADDRESSES]
    taken = {f.address for f in found}
    for address in sorted(set(Cu12Board.read_bus(bus, cu12)) - taken):
        found.append(
            Found("kerong", "cu12", address, Cu12Board.LOCKS, firmware=_cu12(bus, address))
        )
    return sorted(found, key=lambda f: f.address)


def _cu12(bus: LockBus, address: int) -> str:
    def accept(raw: bytes) -> Cu12Frame | None:
        frame = Cu12Frame.from_bytes(raw)
        ok = frame.command == CMD_VERSION and frame.address == address and len(frame.data) >= 2
        return frame if ok else None

    try:
        frame = bus.request(Cu12Frame.version(address).to_bytes(), ANSWER_RULE, accept)
    except BusError:
        return "-"
    return f"soft {frame.data[0]:02X} hard {frame.data[1]:02X}"


def _xor8a(bus: LockBus, wanted: list[int]) -> list[Found]:
    from drivers import xor8a

    found = []
    for address in wanted:
        channels = xor8a.probe(bus, address)
        if channels:
            found.append(Found("xor8a", "xor8a", address, channels))
    return found


def _modbus(bus: LockBus, wanted: list[int]) -> list[Found]:
    from drivers import modbus_relay
    from drivers.xy_md02 import XyMd02

    found = []
    for address in wanted:
        shape = modbus_relay.probe(bus, address)
        if shape is not None:
            relays, inputs = shape
            kind = {16: "modbus-relay-16", 8: "modbus-relay-8"}.get(relays, "modbus-input-8")
            found.append(Found("modbus-relay", kind, address, relays, inputs))
            continue
        try:
            celsius, _humidity = XyMd02(bus, address).read_registers()
        except BusError:
            continue
        found.append(Found("modbus-relay", "xy-md02", address, 0, reading=f"{celsius:.1f}C"))
    return found
