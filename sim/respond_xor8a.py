"""How an 8A/80 board reacts to each host frame (lock-protocol.md §4).

Decisions where the spec is silent (documented in ``sim/README.md``):

* An unlock is answered once the pulse is over (``pulse_ms`` after the frame), with the
  feedback it then reads: ``00`` opened / ``11`` failed for a lock that is shorted when
  locked (``hook_polarity="engaged_high"``), the other way round for ``engaged_low``.
* Unlock-all (LL 00) answers like its request at once and pulses the locks in turn.
* A lock number above the board's locks is not answered.
* There are no IR sensors; the feedback bit is all the board reports.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.codec_xor8a import (
    FEEDBACK_OFF,
    FEEDBACK_ON,
    MAX_BOARD,
    MIN_LOCKS,
    HostFrame,
    new_decoder,
    read_all_answer,
    read_one_answer,
    seal,
    unlock_answer,
)
from sim.dialect import Dialect
from sim.model import SimBoard


def targets(frame: HostFrame, present: Sequence[int]) -> list[int]:
    return [frame.board] if frame.board in present else []


def lock_of(frame: HostFrame) -> int | None:
    return frame.lock or None


def act(frame: HostFrame, board: SimBoard, at: float) -> bytes | None:
    if frame.lock > board.n_locks:
        return None
    shorted_when_locked = board.hook_polarity == "engaged_high"
    if frame.is_unlock and frame.lock == 0:
        board.unlock_all(at)
        return frame.to_bytes()
    if frame.is_unlock:
        board.unlock(frame.lock, at)
        opened = board.will_release(frame.lock)
        return unlock_answer(
            board.address,
            frame.lock,
            FEEDBACK_OFF if opened == shorted_when_locked else FEEDBACK_ON,
        )
    bits = board.hook_bits(at)
    if frame.lock == 0:
        return read_all_answer(board.address, bits, board.n_locks)
    bit = bits >> (frame.lock - 1) & 1
    return read_one_answer(board.address, frame.lock, FEEDBACK_ON if bit else FEEDBACK_OFF)


def answer_delay(frame: HostFrame, board: SimBoard) -> float:
    return board.pulse_ms / 1000 if frame.is_unlock and frame.lock else 0.0


def corrupt_at(answer: bytes) -> int:
    return 2 if len(answer) > 5 else 3  # the first bitmap byte, or the status byte


DIALECT: Dialect[HostFrame] = Dialect(
    name="xor8a",
    n_locks=MIN_LOCKS,
    max_board=MAX_BOARD,
    new_decoder=new_decoder,
    targets=targets,
    lock_of=lock_of,
    act=act,
    corrupt_at=corrupt_at,
    is_valid=lambda frame: isinstance(frame, HostFrame),
    answer_delay=answer_delay,
)

__all__ = ["DIALECT", "seal"]
