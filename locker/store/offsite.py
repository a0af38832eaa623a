"""Encrypted copies of the backups, for places off the station's own SD card: a folder
(``LOCKER_BACKUP_COPY_TO``: a USB stick, a mounted share) and the fleet hub.

A copy is one file, ``<backup name>.lpsbak``, encrypted with the **backup key** (32 random
bytes, ``<data dir>/backup.key``, made on first use; ``locker db backup-key`` prints it for
the shop to keep *off* the station). It holds the database and the code key the codes in it
are hashed under, so a station whose card died is restored from the copy and the key alone.
The hub stores the same file and never has the key: it cannot read it.

The file: a header (``MAGIC``, the key's id, a random nonce prefix), then the plaintext (a
length-prefixed JSON description, then the database's bytes) in chunks of ``CHUNK`` bytes,
each sealed with AES-256-GCM under the nonce ``prefix || chunk number`` and with the header,
the chunk number and whether it is the last as associated data. So a copy is written and
read a chunk at a time (a big database never needs twice its size in memory), and a chunk
changed, dropped, moved or cut off at the end fails to open. The key's id in the header
tells a wrong key ("made with another backup key") from a damaged copy.

``cryptography`` is loaded only here, when a copy is written or read (not at start).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, BinaryIO

from locker.store.backup_names import NAME, Backup, fsync_dir, stamp, taken_at

MAGIC = b"LPSBAK1\x00"
SUFFIX = ".lpsbak"
CHUNK = 1 << 20  # plaintext bytes per sealed chunk
TAG = 16  # AES-GCM's tag
KEY_BYTES = 32
KEY_TEXT_PREFIX = "lpsbk1-"
_HEADER = struct.Struct(">8s8s8s")  # magic, key id, nonce prefix
_META_LEN = struct.Struct(">I")


class CopyError(Exception):
    """A copy could not be written where it should go (nothing was left under its name)."""


class CopyUnreadable(Exception):
    """A copy that cannot be opened: not a copy, another key, or damaged. Nothing changed."""

    exit_code = 65


class CopyFailed(Exception):
    """The local backup was made, but its copy off the card was not."""

    def __init__(self, made: Backup, reason: str) -> None:
        super().__init__(reason)
        self.made = made
        self.reason = reason


# --- the key ------------------------------------------------------------------------------


def key_id(key: bytes) -> bytes:
    """8 bytes that name a backup key without telling it (written in every copy)."""
    return hmac.new(key, b"lps backup key id", hashlib.sha256).digest()[:8]


def key_text(key: bytes) -> str:
    """The key as the shop writes it down: ``lpsbk1-`` and 43 URL-safe characters."""
    return KEY_TEXT_PREFIX + base64.urlsafe_b64encode(key).decode().rstrip("=")


def parse_key_text(text: str) -> bytes:
    """The key from what ``key_text`` printed (spaces and line breaks ignored)."""
    cleaned = "".join(text.split())
    if not cleaned.startswith(KEY_TEXT_PREFIX):
        raise ValueError(f"a backup key starts with {KEY_TEXT_PREFIX!r}")
    body = cleaned.removeprefix(KEY_TEXT_PREFIX)
    try:
        key = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise ValueError("the backup key is not in its printed form") from exc
    if len(key) != KEY_BYTES:
        raise ValueError("the backup key is not in its printed form (wrong length)")
    return key


def load_or_create_backup_key(path: Path) -> bytes:
    """Read the backup key, making it (mode 0600) on first use. Never rewritten: the
    copies made under it open only with it."""
    if path.exists():
        key = path.read_bytes()
        if len(key) != KEY_BYTES:
            raise CopyError(f"{path}: not a backup key ({len(key)} bytes, not {KEY_BYTES})")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    fsync_dir(path.parent)
    return key


# --- writing ------------------------------------------------------------------------------


def copy_name(backup: Path) -> str:
    return backup.name + SUFFIX


def encrypt_backup(made: Backup, key: bytes, out: BinaryIO) -> None:
    """Write the sealed copy of ``made`` (its database and the code key beside it) to ``out``."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    meta = {
        "name": made.path.name,
        "revision": made.revision,
        "taken_at": made.taken_at.isoformat(),
        "size": made.path.stat().st_size,
        "code_key": made.key.read_bytes().hex() if made.key is not None else None,
    }
    header = _HEADER.pack(MAGIC, key_id(key), secrets.token_bytes(8))
    out.write(header)
    aead = AESGCM(key)
    meta_bytes = json.dumps(meta).encode()
    with open(made.path, "rb") as db:
        pieces = _chunks(_META_LEN.pack(len(meta_bytes)) + meta_bytes, db)
        current = next(pieces)
        number = 0
        for following in pieces:
            out.write(_seal(aead, header, number, current, last=False))
            current, number = following, number + 1
        out.write(_seal(aead, header, number, current, last=True))


def _chunks(first: bytes, rest: IO[bytes]) -> Iterator[bytes]:
    """The plaintext in chunks of ``CHUNK`` (the last may be shorter, never empty unless
    it is the only one)."""
    buffer = first
    while True:
        while len(buffer) < CHUNK:
            more = rest.read(CHUNK)
            if not more:
                break
            buffer += more
        if len(buffer) <= CHUNK:
            yield buffer
            return
        yield buffer[:CHUNK]
        buffer = buffer[CHUNK:]


def _nonce(header: bytes, number: int) -> bytes:
    return header[16:24] + struct.pack(">I", number)


def _aad(header: bytes, number: int, last: bool) -> bytes:
    return header + struct.pack(">I?", number, last)


def _seal(aead: Any, header: bytes, number: int, plain: bytes, *, last: bool) -> bytes:
    sealed: bytes = aead.encrypt(_nonce(header, number), plain, _aad(header, number, last))
    return sealed


def write_copy(made: Backup, key: bytes, folder: Path) -> Path:
    """The sealed copy of ``made`` in ``folder``, written whole or not at all.

    The folder is never made here: a USB stick that is not mounted leaves an empty mount
    point, and a copy written into it would be on the SD card after all."""
    if not folder.exists():
        raise CopyError(
            f"the copy folder {folder} does not exist (is the USB stick or the share mounted?)"
        )
    if not folder.is_dir():
        raise CopyError(f"the copy folder {folder} is not a folder")
    dest = folder / copy_name(made.path)
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{dest.name}.", suffix=".tmp")
    except OSError as exc:
        raise CopyError(f"cannot write into the copy folder {folder}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            encrypt_backup(made, key, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, dest)
        fsync_dir(folder)
    except OSError as exc:
        Path(name).unlink(missing_ok=True)
        raise CopyError(f"could not write the copy {dest}: {exc}") from exc
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return dest


def copies(folder: Path) -> list[Path]:
    """The copies in ``folder``, oldest first (by the time in the name)."""
    if not folder.is_dir():
        return []
    found = [
        p
        for p in folder.iterdir()
        if p.name.endswith(SUFFIX) and NAME.match(p.name.removesuffix(SUFFIX)) and p.is_file()
    ]
    return sorted(found, key=lambda p: (_copy_taken_at(p), p.name))


def _copy_taken_at(path: Path) -> datetime:
    return taken_at(path.with_name(path.name.removesuffix(SUFFIX)))


def prune_copies(
    folder: Path, keep: int, *, spare: Path, max_age: timedelta | None, now: datetime
) -> list[Path]:
    """As the local backups are pruned: the newest ``keep`` of the regular ones, those made
    before an upgrade aside, and none older than ``max_age``; never ``spare``."""
    found = [p for p in copies(folder) if p != spare]
    regular = [p for p in found if "-before-" not in p.name]
    excess = regular[: max(0, len(regular) - (keep - 1))]
    old = [p for p in found if max_age is not None and _copy_taken_at(p) < now - max_age]
    removed = sorted(set(excess) | set(old))
    for path in removed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    if removed:
        fsync_dir(folder)
    return removed


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """A copy opened into ``folder``: the database under its backup name, its key beside."""

    database: Path
    code_key: Path | None
    revision: str | None
    taken_at: str


def open_copy(copy: Path, key: bytes, folder: Path) -> Opened:
    """Decrypt ``copy`` into ``folder`` (a chunk at a time; every chunk checked before
    the database is named). Raises :class:`CopyUnreadable` with why; nothing is left then."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not copy.is_file():
        raise CopyUnreadable(f"{copy}: no such copy")
    with open(copy, "rb") as fh:
        header = fh.read(_HEADER.size)
        if len(header) < _HEADER.size or not header.startswith(MAGIC):
            raise CopyUnreadable(f"{copy}: not an encrypted backup copy of this station")
        _, made_with, _ = _HEADER.unpack(header)
        if made_with != key_id(key):
            raise CopyUnreadable(
                f"{copy}: it was made with another backup key (key id {made_with.hex()}; "
                f"the key given has the id {key_id(key).hex()})"
            )
        aead = AESGCM(key)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".opening-", suffix=".tmp")
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                meta = _decrypt_into(fh, aead, header, out, copy, InvalidTag)
                out.flush()
                os.fsync(out.fileno())
            if out_size(tmp) != meta.get("size"):
                raise CopyUnreadable(f"{copy}: damaged (the database is not of its size)")
            database = folder / str(meta["name"])
            if not NAME.match(database.name) or database.exists():
                raise CopyUnreadable(f"{copy}: damaged (it names no backup)")
            code_key = None
            if meta.get("code_key"):
                code_key = database.with_name(database.name + ".key")
                fd_key = os.open(code_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd_key, "wb") as kh:
                    kh.write(bytes.fromhex(str(meta["code_key"])))
            os.replace(tmp, database)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return Opened(database, code_key, meta.get("revision"), str(meta.get("taken_at")))


def out_size(path: Path) -> int:
    return path.stat().st_size


def _decrypt_into(
    fh: BinaryIO, aead: Any, header: bytes, out: BinaryIO, copy: Path, invalid: type[Exception]
) -> dict[str, Any]:
    number = 0
    pending = fh.read(CHUNK + TAG)
    meta: dict[str, Any] | None = None
    head = b""
    while True:
        following = fh.read(CHUNK + TAG)
        last = not following
        try:
            plain = aead.decrypt(_nonce(header, number), pending, _aad(header, number, last))
        except invalid:
            raise CopyUnreadable(
                f"{copy}: damaged (chunk {number} does not open with the key: changed, "
                "cut off or out of order)"
            ) from None
        if meta is None:
            head += plain
            if len(head) >= _META_LEN.size:
                (length,) = _META_LEN.unpack(head[: _META_LEN.size])
                if len(head) >= _META_LEN.size + length:
                    meta = json.loads(head[_META_LEN.size : _META_LEN.size + length])
                    out.write(head[_META_LEN.size + length :])
        else:
            out.write(plain)
        if last:
            break
        pending, number = following, number + 1
    if meta is None:
        raise CopyUnreadable(f"{copy}: damaged (no description inside)")
    return meta


def describe_copy(path: Path, when: datetime | None = None) -> str:
    at = when or _copy_taken_at(path)
    return f"{path.resolve()} (taken {stamp(at)})"
