"""What the bus needs to know about one protocol family, bundled (see respond_cu16/respond_cu12)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sim.model import SimBoard
from sim.stream import StreamDecoder

F = TypeVar("F")


@dataclass(frozen=True)
class Dialect(Generic[F]):
    """One protocol: how to decode host frames, who answers them, and what they do."""

    name: str
    n_locks: int  # locks per board
    max_board: int  # highest board address
    new_decoder: Callable[[], StreamDecoder[F]]
    # Boards that must handle the frame, in the order they answer, from those present.
    targets: Callable[[F, Sequence[int]], list[int]]
    # The lock a frame concerns (for per-lock faults), or None for a board-level frame.
    lock_of: Callable[[F], int | None]
    # Apply the frame to one board at time ``at``; the answer's bytes, or None for silence.
    act: Callable[[F, SimBoard, float], bytes | None]
    # Default byte index CORRUPT_BYTE inverts in an answer.
    corrupt_at: Callable[[bytes], int]
    # False for a decoded report of a bad frame (CU12 checksum error).
    is_valid: Callable[[F], bool]
    # Seconds the board takes before it answers, beyond processing (the 8A/80 board
    # answers an unlock once its pulse is over).
    answer_delay: Callable[[F, SimBoard], float] = lambda _frame, _board: 0.0
