"""ZVT's APDU: ``CLASS INSTR LEN DATA``.

LEN is one byte for up to 254 data bytes; longer data (up to 65535) is announced by
``FF`` and two bytes of length, low byte first. :class:`ApduReader` cuts APDUs out of a
byte stream (TCP gives no frame boundaries) and refuses a class byte no terminal sends,
so garbage is found at its first byte instead of being read as a frame.
"""

from __future__ import annotations

from dataclasses import dataclass

LONG = 0xFF
MAX_DATA = 0xFFFF
# The class bytes a terminal sends (zvt.md §3): acknowledgements 80 and 84, status 04,
# and 06 for print lines, completion and abort.
TERMINAL_CLASSES = frozenset({0x80, 0x84, 0x04, 0x06})


class ApduError(ValueError):
    """Bytes that are no APDU (a class no terminal sends, data too long)."""


@dataclass(frozen=True)
class Apdu:
    """One ZVT message: its two command bytes and its data."""

    cls: int
    instr: int
    data: bytes = b""

    @property
    def command(self) -> tuple[int, int]:
        return (self.cls, self.instr)

    def encode(self) -> bytes:
        """The bytes on the wire, with the long length form where the data needs it."""
        size = len(self.data)
        if size > MAX_DATA:
            raise ApduError(f"APDU data of {size} bytes is over {MAX_DATA}")
        head = bytes((self.cls, self.instr))
        if size < LONG:
            return head + bytes((size,)) + self.data
        return head + bytes((LONG,)) + size.to_bytes(2, "little") + self.data

    def __str__(self) -> str:
        return self.encode().hex(" ")


ACK = Apdu(0x80, 0x00)


def decode(frame: bytes) -> Apdu:
    """Exactly one APDU; anything short, long or left over raises :class:`ApduError`."""
    reader = ApduReader(classes=None)
    found = reader.feed(frame)
    if len(found) != 1 or reader.pending:
        raise ApduError(f"not one whole APDU: {frame.hex(' ')}")
    return found[0]


class ApduReader:
    """Feed it the bytes as they come; it gives back each whole APDU.

    ``classes`` are the class bytes accepted (None: any); a first byte outside them raises
    :class:`ApduError` and the reader is then useless (over TCP nothing resynchronises a
    stream, so the caller drops the connection).
    """

    def __init__(self, classes: frozenset[int] | None = TERMINAL_CLASSES) -> None:
        self._classes = classes
        self._buffer = bytearray()
        self.error: ApduError | None = None  # garbage found after the APDUs last given

    @property
    def pending(self) -> int:
        """Bytes of an APDU begun but not whole yet (a torn frame if the link ends here)."""
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[Apdu]:
        """The APDUs completed by ``chunk``. Garbage raises :class:`ApduError`; when whole
        APDUs came before it in the same chunk, those are given first and the error is
        kept in :attr:`error` (and raised by the next call)."""
        if self.error is not None:
            raise self.error
        self._buffer += chunk
        found: list[Apdu] = []
        while True:
            try:
                apdu = self._take()
            except ApduError as exc:
                if not found:
                    raise
                self.error = exc
                return found
            if apdu is None:
                return found
            found.append(apdu)

    def _take(self) -> Apdu | None:
        buf = self._buffer
        if buf and self._classes is not None and buf[0] not in self._classes:
            raise ApduError(f"no terminal sends class {buf[0]:02x}: {bytes(buf).hex(' ')}")
        if len(buf) < 3:
            return None
        size, start = buf[2], 3
        if size == LONG:
            if len(buf) < 5:
                return None
            size, start = int.from_bytes(buf[3:5], "little"), 5
        if len(buf) < start + size:
            return None
        apdu = Apdu(buf[0], buf[1], bytes(buf[start : start + size]))
        del buf[: start + size]
        return apdu
