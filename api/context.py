"""What every request handler needs: the station and its helpers, held by the app."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request

from api.metrics import Metrics
from locker.handover import CodeHandover
from locker.locks import DoorReading
from locker.notify.notifier import Notifier
from locker.payments.cashier import Cashier
from locker.runtime.settings import Settings
from locker.services.backup_watch import BackupWatch
from locker.station import Station
from locker.types import CompartmentId

if TYPE_CHECKING:
    from sim.station import SimStation

BoardHealth = Mapping[str, Sequence[Mapping[str, object]]]  # bus id -> BoardFailures.as_dict()


def no_boards() -> BoardHealth:
    return {}


@dataclass
class StationContext:
    station: Station
    settings: Settings
    handover: CodeHandover
    metrics: Metrics
    bus_health: Callable[[], Mapping[str, Mapping[str, int]]]
    notifier: Notifier
    backups: BackupWatch  # the regular backups and when the last good one was taken
    sim: SimStation | None = None
    silent_buses: set[str] | None = None  # buses the door watcher's last read missed
    # what the door watcher's last read saw (latch, IR strip), drawn on the maintenance front
    door_readings: Mapping[CompartmentId, DoorReading] | None = None
    sim_token: str = ""  # opens /api/v1/sim as a bearer token (like a staff session does)
    board_health: Callable[[], BoardHealth] = no_boards  # how each board's failed reads ended
    # Pay at pick-up: the pay-by-link provider and the kiosk's card terminal (make_context).
    cashier: Cashier | None = None

    @property
    def money(self) -> Cashier:
        assert self.cashier is not None, "make_context gives every station its cashier"
        return self.cashier


def context(request: Request) -> StationContext:
    ctx: StationContext = request.app.state.ctx
    return ctx
