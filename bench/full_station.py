"""A full station to attack: a layout of many compartments on simulated buses (ten CU16
boards a bus), a movable clock, and every compartment filled with a parcel whose PIN is
known (what the attacker bench and the hostile tests stand on).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api.app import create_app, make_context
from api.runtime import Runtime, running_station
from api.threaded import served
from locker.people import kiosk_devices
from locker.runtime.settings import Settings
from locker.services import deposit, intake
from locker.services.intake import ParcelInput
from locker.types import SizeClass

HOUR = timedelta(hours=1)
LOCKS_PER_CU16 = 16


BOARDS_PER_BUS = 10  # a CU16's DIP switch: addresses 0-9


SIZES = ("S", "S", "M", "M", "L", "XL")


class MovableClock:
    """The station's clock; only the attacker moves it (simulated waiting)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def layout_text(compartments: int, *, pulse_ms: int = 20, baud: int = 115200) -> str:
    """CU16 boards enough for ``compartments``, on as few buses as their ten addresses
    allow (200 → 13 boards on two buses, 7 and 6), 20 compartments per column."""
    boards = math.ceil(compartments / LOCKS_PER_CU16)
    buses = math.ceil(boards / BOARDS_PER_BUS)
    parts = ['[station]\nname = "Station under attack"\n']
    parts += [f'[[bus]]\nid = "bus{b}"\nport = "sim"\nbaud = {baud}\n' for b in range(buses)]
    for k in range(boards):
        bus, address = k % buses, k // buses
        parts.append(f'[[board]]\nbus = "bus{bus}"\naddress = {address}\npulse_ms = {pulse_ms}\n')
    for i in range(compartments):
        k, lock = divmod(i, LOCKS_PER_CU16)
        column, row = divmod(i, 20)
        parts.append(
            f'[[compartment]]\nid = {i + 1}\nbus = "bus{k % buses}"\nboard = {k // buses}\n'
            f'lock = {lock + 1}\nsize = "{SIZES[i % len(SIZES)]}"\n'
            f"column = {column + 1}\nrow = {row + 1}\n"
        )
    return "\n".join(parts)


@dataclass
class FullStation:
    """A served station with every compartment holding a stored parcel and its live code."""

    base_url: str
    runtime: Runtime
    clock: MovableClock
    pins: frozenset[str]  # the live PINs, one per compartment
    settings: Settings
    qr_of: dict[str, str] = field(default_factory=dict)  # a live PIN's QR token
    kiosk_token: str = ""  # the device token of the paired kiosk ("kiosk")
    collected: set[str] = field(default_factory=set)  # PINs honest customers used

    @property
    def digits(self) -> int:
        return self.settings.pin_digits

    @property
    def cap_per_hour(self) -> int:
        return self.settings.attempts_station_per_hour

    def live_pins(self) -> list[str]:
        return [pin for pin in self.pins if pin not in self.collected]


def fill(runtime: Runtime, *, threads: int = 8) -> dict[str, str]:
    """Store a parcel in every compartment through the services and the real driver: each
    door is opened by the driver, the simulator's hands put the parcel in and close it,
    and the station reads the door back before it issues the code."""
    station, sim = runtime.station, runtime.sim
    assert sim is not None
    reservations = []
    for spec in station.layout.compartments:  # best fit gives each parcel its own size
        parcel = ParcelInput(
            carrier="Parcel Co",
            tracking_number=f"T{spec.id:05d}",
            recipient_name=f"Recipient {spec.id}",
            size=SizeClass(spec.size),
        )
        reservations.append(deposit.reserve(station, actor="filler", parcel=parcel))

    def store(reservation: intake.Reservation) -> tuple[str, str]:
        opened = deposit.deposit(station, actor="filler", parcel_id=reservation.parcel_id)
        if not opened.opened:
            raise RuntimeError(f"compartment {opened.compartment_id} did not open: {opened}")
        sim.put(reservation.compartment_id)
        sim.close(reservation.compartment_id)
        stored = deposit.confirm_stored(station, parcel_id=reservation.parcel_id)
        assert stored.code is not None
        return stored.code.pin, stored.code.qr_token

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="filler") as pool:
        codes = dict(pool.map(store, reservations))
    if len(codes) != len(reservations):
        raise RuntimeError("two parcels share a PIN")
    return codes


@contextmanager
def full_station(
    folder: Path, *, compartments: int = 200, days: float = 30, **settings: object
) -> Iterator[FullStation]:
    """The station as ``locker serve`` runs it, filled full, with a clock to move.

    Parcels stay ``days`` + 7 days (so no code expires during the attack); the background
    jobs are off (they would only expire parcels and poll doors nobody touches).
    """
    layout_file = folder / "layout.toml"
    layout_file.write_text(layout_text(compartments))
    config = Settings(
        data_dir=folder / "var",
        layout=layout_file,
        pickup_days=days + 7,
        _env_file=None,  # type: ignore[call-arg]
        **settings,  # type: ignore[arg-type]
    )
    clock = MovableClock(datetime(2026, 11, 2, 0, 0, tzinfo=UTC))
    with running_station(config) as runtime:
        runtime.station.clock = clock
        codes = fill(runtime)
        kiosk_token = kiosk_devices.pair(runtime.station, name="kiosk", actor="bench")
        ctx = make_context(
            runtime.station,
            config,
            bus_health=lambda: {k: v.as_dict() for k, v in runtime.locks.health().items()},
            sim_station=runtime.sim,
        )
        with served(create_app(ctx, background=False)) as base_url:
            yield FullStation(
                base_url, runtime, clock, frozenset(codes), config, codes, kiosk_token
            )
