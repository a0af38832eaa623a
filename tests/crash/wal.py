"""SQLite's write-ahead log read frame by frame (https://sqlite.org/fileformat2.html#walformat),
to cut it where a power failure in the middle of an append would.

A WAL is a 32-byte header and frames of a 24-byte header plus one page. A frame counts only
if its salts match the header's and the running checksum over everything before it matches;
a frame whose "database size" field is not zero ends a transaction (a commit). On open,
SQLite replays the valid frames up to the last commit and ignores the rest.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER = 32
FRAME_HEADER = 24
MAGIC_LE, MAGIC_BE = 0x377F0682, 0x377F0683  # checksums over little / big endian words


@dataclass(frozen=True)
class Frame:
    start: int  # byte offset of its header in the WAL
    end: int
    page: int
    commit: bool


def _checksum(data: bytes, big_endian: bool, s0: int, s1: int) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def frames(wal: bytes) -> list[Frame]:
    """The frames SQLite would accept, in order (stops at the first that does not check)."""
    if len(wal) < HEADER:
        return []
    magic, _version, page_size, _seq, salt1, salt2, c0, c1 = struct.unpack(">8I", wal[:HEADER])
    if magic not in (MAGIC_LE, MAGIC_BE):
        return []
    big = magic == MAGIC_BE
    s0, s1 = _checksum(wal[:24], big, 0, 0)
    if (s0, s1) != (c0, c1):
        return []
    found = []
    start = HEADER
    while start + FRAME_HEADER + page_size <= len(wal):
        page, size, f_salt1, f_salt2, f0, f1 = struct.unpack(
            ">6I", wal[start : start + FRAME_HEADER]
        )
        if (f_salt1, f_salt2) != (salt1, salt2) or page == 0:
            break
        end = start + FRAME_HEADER + page_size
        s0, s1 = _checksum(wal[start : start + 8], big, s0, s1)
        s0, s1 = _checksum(wal[start + FRAME_HEADER : end], big, s0, s1)
        if (s0, s1) != (f0, f1):
            break
        found.append(Frame(start, end, page, size != 0))
        start = end
    return found


def commit_ends(wal: bytes) -> list[int]:
    """Where each committed transaction ends: a cut there leaves exactly those before it.
    The first entry is the bare header (no transaction from the WAL)."""
    return [HEADER] + [f.end for f in frames(wal) if f.commit]
