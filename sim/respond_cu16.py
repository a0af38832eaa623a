"""How a CU16 board reacts to each host command (lock-protocol.md sections 1.4-1.6 and 1.11).

Decisions where the spec is silent (section 9), all documented in ``sim/README.md``:

* 0x31 unlock is never answered; 0x31, 0x30 and 0x33 sent to the broadcast address are ignored.
* 0x32 sent to one board's address (as one public code base does) is answered by that board.
* 0x33 answers at once with the state *before* the pulses (matching the spec's example reply),
  then pulses the 16 locks one after another (open questions Q2).
* Replies carry ``ADDR = board << 4`` whatever the request's low nibble was (Q3).
* 0x37 set, 0x39 and 0x40 with a valid value store it and start a flash write (the board is deaf
  for ``flash_write_s``); an out-of-range value is ignored and the reply shows the current value.
* 0x39 stores the delayed-unlock time, which later unlocks honour; its reply is hooks + IR, the
  reading of the reply format table (Q4).
* 0x40 changes the rate the board listens at: after it the board hears nothing until the bus
  (``SimBus.baud``) runs at the new rate too.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.codec import (
    BAUD_BY_CODE,
    BROADCASTABLE,
    DELAY_MAX_S,
    LOCKS_PER_BOARD,
    MAX_BOARD,
    PULSE_MAX_UNITS,
    PULSE_UNIT_MS,
    Cmd,
    Command,
    Reply,
    ReplyCode,
    new_decoder,
)
from sim.dialect import Dialect
from sim.model import SimBoard

_CODE_BY_BAUD = {baud: code for code, baud in BAUD_BY_CODE.items()}
_CORRUPT_AT = 3  # D1, the first hook byte: the byte a careless host would most regret trusting


def targets(command: Command, present: Sequence[int]) -> list[int]:
    if command.is_broadcast:
        return sorted(present) if command.cmd in BROADCASTABLE else []
    return [command.board] if command.board in present else []


def lock_of(command: Command) -> int | None:
    return command.lock if command.cmd is Cmd.UNLOCK else None


def act(command: Command, board: SimBoard, at: float) -> bytes | None:
    address = board.address
    match command.cmd:
        case Cmd.STATUS | Cmd.BUS_STATUS:
            code = ReplyCode.STATUS if command.cmd is Cmd.STATUS else ReplyCode.BUS_STATUS
            return Reply.status(address, code, board.hook_bits(at), board.item_bits()).to_bytes()
        case Cmd.UNLOCK:
            board.unlock(command.lock, at)
            return None
        case Cmd.UNLOCK_ALL:
            reply = Reply.status(address, ReplyCode.STATUS, board.hook_bits(at), board.item_bits())
            board.unlock_all(at)
            return reply.to_bytes()
        case Cmd.PULSE:
            if command.is_set and command.value <= PULSE_MAX_UNITS:
                board.pulse_ms = command.value * PULSE_UNIT_MS
                board.write_config(at)
            return Reply.pulse(address, board.hook_bits(at), board.pulse_ms).to_bytes()
        case Cmd.DELAYED_UNLOCK:
            if command.value <= DELAY_MAX_S:
                board.unlock_delay_s = command.value
                board.write_config(at)
            code = ReplyCode.DELAYED_UNLOCK
            return Reply.status(address, code, board.hook_bits(at), board.item_bits()).to_bytes()
        case Cmd.BAUD:
            if command.value in BAUD_BY_CODE:
                board.baud = BAUD_BY_CODE[command.value]
                board.write_config(at)
            code_now = _CODE_BY_BAUD.get(board.baud, 0)
            return Reply.baud(address, board.hook_bits(at), code_now).to_bytes()


def corrupt_at(answer: bytes) -> int:
    return _CORRUPT_AT


DIALECT: Dialect[Command] = Dialect(
    name="cu16",
    n_locks=LOCKS_PER_BOARD,
    max_board=MAX_BOARD,
    new_decoder=new_decoder,
    targets=targets,
    lock_of=lock_of,
    act=act,
    corrupt_at=corrupt_at,
    is_valid=lambda command: True,
)
