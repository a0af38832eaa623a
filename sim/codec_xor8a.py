"""The generic "8A/80" lock board's frames, seen from the board (lock-protocol.md §4).

Written from the spec alone, not shared with ``drivers/``. Host frames are five bytes,
``HEAD BB LL CMD X`` with X the XOR of the four before it:

* ``8A BB LL 11 X``: unlock lock LL (LL 00: every lock, one after another);
* ``80 BB LL 33 X``: read lock LL (LL 00: read every lock, one bitmap byte per 8 locks,
  highest group first).

Stream decoding (:func:`scan`): a candidate starts with 0x8A or 0x80 and has the command
byte that head takes (0x11 or 0x33); anything else is dropped one byte at a time. A
candidate whose XOR fails is a bad frame: dropped (only its first byte, so a good frame
inside it is still found), never acted on, never answered (the board has no NAK).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.stream import Scan, StreamDecoder

OPEN_HEAD = 0x8A
READ_HEAD = 0x80
OPEN_CMD = 0x11
READ_CMD = 0x33
COMMAND_OF = {OPEN_HEAD: OPEN_CMD, READ_HEAD: READ_CMD}
FEEDBACK_ON = 0x11  # a status byte whose feedback input is shorted
FEEDBACK_OFF = 0x00
LENGTH = 5
MAX_BOARD = 31  # DIP address 1..31
MIN_LOCKS, MAX_LOCKS = 8, 50


def check_byte(data: bytes) -> int:
    """XOR of every byte of ``data``."""
    out = 0
    for value in data:
        out ^= value
    return out


def seal(body: bytes) -> bytes:
    """``body`` followed by its check byte."""
    return body + bytes([check_byte(body)])


@dataclass(frozen=True)
class HostFrame:
    """One host frame: ``head`` 0x8A (unlock) or 0x80 (read), board, lock (0 = all)."""

    head: int
    board: int
    lock: int

    @property
    def is_unlock(self) -> bool:
        return self.head == OPEN_HEAD

    def to_bytes(self) -> bytes:
        return seal(bytes([self.head, self.board, self.lock, COMMAND_OF[self.head]]))


def unlock_answer(board: int, lock: int, opened_status: int) -> bytes:
    """``8A BB LL SS X``."""
    return seal(bytes([OPEN_HEAD, board, lock, opened_status]))


def read_one_answer(board: int, lock: int, status: int) -> bytes:
    """``80 BB LL SS X``."""
    return seal(bytes([READ_HEAD, board, lock, status]))


def read_all_answer(board: int, bits: int, n_locks: int) -> bytes:
    """``80 BB Gn..G1 33 X``: ceil(n/8) bitmap bytes, the group of the highest locks first."""
    groups = (n_locks + 7) // 8
    return seal(bytes([READ_HEAD, board]) + bits.to_bytes(groups, "big") + bytes([READ_CMD]))


def scan(buf: bytes) -> Scan[HostFrame]:
    """Look at the start of ``buf`` (see :mod:`sim.stream`)."""
    if not buf:
        return Scan(0, None, False)
    if buf[0] not in COMMAND_OF:
        nxt = next((i for i, b in enumerate(buf) if b in COMMAND_OF), len(buf))
        return Scan(nxt, None, False)
    if len(buf) < LENGTH:
        return Scan(0, None, False)
    if buf[3] != COMMAND_OF[buf[0]]:
        return Scan(1, None, False)  # not a host frame (an answer of another board, noise)
    if check_byte(buf[:4]) != buf[4]:
        return Scan(1, None, True)
    return Scan(LENGTH, HostFrame(buf[0], buf[1], buf[2]), False)


def new_decoder() -> StreamDecoder[HostFrame]:
    """A buffered decoder for a stream of host frames."""
    return StreamDecoder(scan)
