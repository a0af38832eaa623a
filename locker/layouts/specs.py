"""The parts of a station's layout: its buses, boards and compartments, as parsed by
:mod:`locker.layout` (which re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass

from locker.layouts.hardware import KERONG
from locker.types import ColdKind, CompartmentId, SizeClass


@dataclass(frozen=True)
class Bus:
    id: str
    port: str
    baud: int = 19200
    timeout_ms: int = 200
    line: int = 0
    family: str = KERONG


@dataclass(frozen=True)
class Board:
    bus: str
    address: int
    type: str = "cu16"
    pulse_ms: int = 550
    hook_polarity: str = "engaged_high"
    ir_sensors: bool = True
    line: int = 0
    channels: int | None = None  # the 8A/80 board: 8..50; others: fixed by the type


@dataclass(frozen=True)
class CompartmentSpec:
    id: CompartmentId
    bus: str
    board: int
    lock: int
    size: SizeClass
    width_mm: int
    height_mm: int
    depth_mm: int
    column: int
    row: int
    accessible: bool = False
    cold: ColdKind | None = None  # the kind of its cold group; None: ambient
    cold_group: str | None = None  # None with a cold kind: an old ``cooled = true``, unwatched
    line: int = 0
    input_board: int | None = None  # where the door switch is read (relay boards);
    input: int | None = None  # None: the lock's own board and number

    @property
    def door_input(self) -> tuple[int, int]:
        """(board, input) that reports this compartment's door."""
        board = self.board if self.input_board is None else self.input_board
        return board, self.lock if self.input is None else self.input

    @property
    def dimensions(self) -> tuple[int, int, int]:
        return (self.width_mm, self.height_mm, self.depth_mm)

    @property
    def cooled(self) -> bool:
        return self.cold is not None
