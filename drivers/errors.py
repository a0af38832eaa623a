"""Errors raised by the lock-board drivers, split by who failed.

::

    BusError                       anything that went wrong talking to a lock board
     ├── PortUnavailable           the serial port could not be opened, or broke while in use
     │                               (USB adapter unplugged, pty closed, TCP gateway gone)
     ├── NoAnswer (TimeoutError)   nothing usable arrived before the deadline (``attempts``:
     │                               how each try ended, see drivers.counters.FailureKind)
     │                               (board switched off, wrong address or baud, request garbled
     │                               on the line: CU16 has no NAK, lock-protocol.md §1.6.7)
     ├── BadFrame                  bytes arrived, but no frame that answers the request
     │                               (checksum or length wrong, ETX misplaced, an answer from
     │                               another board or to another command)
     └── BoardRefused              the board answered and said no (CU12 ASK codes 0x11–0x14,
                                     lock-protocol.md §2.1)

``PortUnavailable``, ``NoAnswer`` and ``BadFrame`` are reported by the host side;
``BoardRefused`` is reported by the board. None of them ever reaches ``locker``:
:class:`drivers.station_locks.SerialLocks` turns each into a ``DoorOutcome``.
"""

from __future__ import annotations

from collections.abc import Iterable

from drivers.counters import FailureKind, describe, summarize


class BusError(Exception):
    """Base class of every driver error."""


class PortUnavailable(BusError):
    """The serial port could not be opened or failed while in use; the bus reopens it later."""


class _NoValidAnswer(BusError):
    """A request that got no valid answer; ``attempts`` says how each try ended.

    :param attempts: the :class:`FailureKind` of every failed attempt, in order (empty when
        the error does not come from the bus, e.g. a frame decoded by hand).
    :param tries: attempts made in all (default: as many as ``attempts``; more when the
        board refused some, CU12 ASK 0x14).
    """

    def __init__(
        self, message: str, attempts: Iterable[FailureKind] = (), tries: int | None = None
    ) -> None:
        super().__init__(message)
        self.attempts: tuple[FailureKind, ...] = tuple(attempts)
        self.tries = len(self.attempts) if tries is None else tries

    @property
    def kind(self) -> FailureKind | None:
        """The kind that dominated the attempts (None if unknown)."""
        return summarize(self.attempts)[0][0] if self.attempts else None

    def describe(self) -> str:
        """``bad checksum (3 of 3 tries)``, or ``no answer`` if the attempts are unknown."""
        return describe(self.attempts, self.tries)


class NoAnswer(_NoValidAnswer, TimeoutError):
    """No valid answer arrived before the request's deadline (after any retries)."""


class BadFrame(_NoValidAnswer):
    """Bytes arrived but none formed a valid answer to the request (after any retries)."""


class BoardRefused(BusError):
    """The board answered with a result code other than "ok".

    :param code: the board's result code (CU12 ASK byte).
    :param meaning: a short human text for the code.
    :param retriable: True when the code says the request itself was damaged on the line
        (CU12 ASK 0x14 "checksum error"): a read may be sent again, an unlock never is.
    """

    def __init__(self, code: int, meaning: str, *, retriable: bool = False) -> None:
        super().__init__(f"board refused: {meaning} (code 0x{code:02X})")
        self.code = code
        self.meaning = meaning
        self.retriable = retriable
