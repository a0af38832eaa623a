"""How a CU12 board reacts to each host frame (lock-protocol.md sections 2.1-2.3).

Decisions where the spec is silent, all documented in ``sim/README.md``:

* ADDR 0x10 (all boards) works for every command; the boards answer in address order.
* 0x81 answers ASK 0x10 at once, before the pulse ends (the spec's example); LOCKNUM 0x0C pulses
  the 12 locks one after another. A LOCKNUM above 0x0C, a DATALEN that does not fit the command,
  or a value out of range is answered ASK 0x11 (failed) and changes nothing.
* A CMD in 0x80-0x8F missing from the table of section 2.2 is answered ASK 0x13.
* A frame intact but for its SUM is answered ASK 0x14, with nothing done (see sim.codec_cu12).
* A set (or 0x8E initialise) answers ASK 0x10 with no DATA and starts a flash write.
* Enabling the push-door wait (0x85) switches the delayed unlock (0x84) off, as the spec says;
  the push-door behaviour itself is not modelled.
* There are no IR sensors in this protocol; the hook bitmap is all the board reports.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.codec_cu12 import (
    ALL_BOARDS,
    ALL_LOCKS,
    BAUD_BY_CODE,
    DEFAULT_VERSION,
    DELAY_MAX_S,
    LOCKS_PER_BOARD,
    MAX_BOARD,
    PULSE_MAX_UNITS,
    PULSE_UNIT_MS,
    Ask,
    ChecksumError,
    Cmd,
    Frame,
    Request,
    new_decoder,
)
from sim.dialect import Dialect
from sim.model import SimBoard

_CODE_BY_BAUD = {baud: code for code, baud in BAUD_BY_CODE.items()}
_DEFAULT_BAUD = 19200  # factory rate, section 2
_KNOWN = frozenset(Cmd)


def targets(request: Request, present: Sequence[int]) -> list[int]:
    if request.addr == ALL_BOARDS:
        return sorted(present)
    return [request.addr] if request.addr in present else []


def lock_of(request: Request) -> int | None:
    if request.cmd == Cmd.UNLOCK and request.lock < LOCKS_PER_BOARD:
        return request.lock + 1
    return None


def act(request: Request, board: SimBoard, at: float) -> bytes | None:
    if isinstance(request, ChecksumError):
        return request.reply(board.address).to_bytes()
    ask, data = _act(request, board, at)
    return request.reply(board.address, ask, data).to_bytes()


def _act(frame: Frame, board: SimBoard, at: float) -> tuple[Ask, bytes]:
    n = len(frame.data)
    value = int.from_bytes(frame.data, "big")
    match frame.cmd:
        case Cmd.STATUS:
            return Ask.OK, board.hook_bits(at).to_bytes(2, "little")
        case Cmd.UNLOCK if n == 0 and frame.lock < LOCKS_PER_BOARD:
            board.unlock(frame.lock + 1, at)
            return Ask.OK, b""
        case Cmd.UNLOCK if n == 0 and frame.lock == ALL_LOCKS:
            board.unlock_all(at)
            return Ask.OK, b""
        case Cmd.PULSE if n == 0:
            return Ask.OK, (board.pulse_ms // PULSE_UNIT_MS).to_bytes(2, "big")
        case Cmd.PULSE if n == 2 and value <= PULSE_MAX_UNITS:
            board.pulse_ms = value * PULSE_UNIT_MS
        case Cmd.BAUD if n == 0:
            return Ask.OK, bytes([_CODE_BY_BAUD.get(board.baud, 0)])
        case Cmd.BAUD if n == 1 and value in BAUD_BY_CODE:
            board.baud = BAUD_BY_CODE[value]
        case Cmd.DELAYED_UNLOCK if n == 0:
            return Ask.OK, bytes([board.unlock_delay_s])
        case Cmd.DELAYED_UNLOCK if n == 1 and value <= DELAY_MAX_S:
            board.unlock_delay_s = value
        case Cmd.PUSH_DOOR if n == 0:
            return Ask.OK, bytes([board.push_door_s])
        case Cmd.PUSH_DOOR if n == 1 and value <= DELAY_MAX_S:
            board.push_door_s = value
            if value:
                board.unlock_delay_s = 0
        case Cmd.INITIALISE if n == 0:
            board.factory_reset()
            board.baud = _DEFAULT_BAUD
        case Cmd.VERSION if n == 0:
            return Ask.OK, bytes(DEFAULT_VERSION)
        case _ if frame.cmd in _KNOWN:
            return Ask.FAILED, b""  # a known command with a wrong length or value
        case _:
            return Ask.UNKNOWN_COMMAND, b""
    board.write_config(at)  # every case that falls through here changed a setting
    return Ask.OK, b""


def corrupt_at(answer: bytes) -> int:
    return 8 if len(answer) > 8 else 4  # the first DATA byte (hook bits), else ASK


DIALECT: Dialect[Request] = Dialect(
    name="cu12",
    n_locks=LOCKS_PER_BOARD,
    max_board=MAX_BOARD,
    new_decoder=new_decoder,
    targets=targets,
    lock_of=lock_of,
    act=act,
    corrupt_at=corrupt_at,
    is_valid=lambda request: isinstance(request, Frame),
)
