"""One RS485 line: one serial port, one request at a time, deadlines, retries, counters.

``LockBus`` (with its :class:`~drivers.port.Port`) is the only place in ``drivers`` that
touches pyserial. The port is opened with ``serial.serial_for_url``, so ``/dev/ttyUSB0``, a
pty path and ``socket://host:port`` (a Kerong BU gateway or the simulator, lock-protocol.md
§8) are the same to it. Board types build frames and say which answers they accept; the
bus moves the bytes, and counts every error (:class:`~drivers.counters.BusCounters`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from drivers.counters import ATTEMPT_COUNTER, BusCounters, FailureKind, Tally
from drivers.errors import BadFrame, BoardRefused, NoAnswer
from drivers.framing import DecoderStats, FrameRule, StreamDecoder
from drivers.port import PORT_ERRORS, Port

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

BITS_PER_BYTE = 10  # 8N1: start + 8 data + stop bits per byte on the wire (§1.1, §1.11)
DEFAULT_BAUD = 19200  # factory default of CU16 and CU12 (lock-protocol.md §1.1, §2)
DEFAULT_TIMEOUT_S = 0.2  # answer deadline after the request's last byte; public code
#                          uses 0.1-1 s (§8 "Timeouts"), the layout's timeout_ms overrides it
DEFAULT_RETRIES = 2  # extra attempts for an idempotent read (§8 "Retries": 2-3)
REOPEN_AFTER_S = 1.0  # a broken port is reopened at most this often
STALE_LIMIT = 4096  # stale input read (and counted) before a request; more is flushed unread


class LockBus:
    """A serial line shared by lock boards (RS485 half duplex).

    :param url: a pyserial port or URL: ``/dev/ttyUSB0``, ``/dev/pts/3``, ``socket://h:p``.
    :param baudrate: line speed; 8N1 is fixed by the boards (§1.1).
    :param timeout_s: how long to wait for an answer after the request has left.
    :param retries: extra attempts for reads (never for commands such as unlock).
    :param reopen_after_s: minimum time between attempts to reopen a broken port.

    The port opens on first use, so a missing adapter does not stop a station from
    starting; every request then raises :class:`PortUnavailable` until it is back.
    """

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = DEFAULT_BAUD,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        reopen_after_s: float = REOPEN_AFTER_S,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if retries < 0:
            raise ValueError("retries must not be negative")
        self.url = url
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.retries = retries
        self.reopen_after_s = reopen_after_s
        self.byte_time_s = BITS_PER_BYTE / baudrate
        self._tally = Tally()
        self._port = Port(
            url,
            baudrate=baudrate,
            timeout_s=timeout_s,
            reopen_after_s=reopen_after_s,
            count=self._tally.add,
        )
        self._line = threading.Lock()  # one request on the wire at a time (half duplex)
        self._quiet_until = 0.0

    def __repr__(self) -> str:
        return f"<LockBus {self.url} @{self.baudrate}>"

    def __enter__(self) -> LockBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API ---------------------------------------------------------------

    def open(self) -> None:
        """Open the port now instead of on first use. :raises PortUnavailable:"""
        with self._line:
            self._port.get()

    def close(self) -> None:
        """Close the port; a later request opens it again."""
        with self._line:
            self._port.close()

    @property
    def is_open(self) -> bool:
        return self._port.is_open

    def counters(self) -> BusCounters:
        """A consistent snapshot of the counters."""
        return self._tally.snapshot()

    def request(
        self,
        frame: bytes,
        rule: FrameRule,
        accept: Callable[[bytes], T | None],
        *,
        retries: int | None = None,
        quiet_after_s: float = 0.0,
        wait_s: float = 0.0,
    ) -> T:
        """Send ``frame`` and return the first answer ``accept`` takes.

        ``accept`` gets each checked frame and returns the decoded answer, or None for a
        valid frame that does not answer this request (counted, ignored). It may raise
        :class:`BoardRefused`. An attempt ends at its deadline; reads are retried up to
        ``retries`` times (default: the bus's), ``retries=0`` for commands with effects.
        ``quiet_after_s`` keeps the line silent afterwards (flash writes, §1.6.6).
        ``wait_s`` lengthens the deadline for a board that answers only once it has acted
        (the 8A/80 board answers an unlock after its pulse).

        Timing of one attempt at 19200 Bd (CU16 status read)::

            host    flush input │ request 5 B │                         │ next request
            line    ────────────┤▓▓▓▓▓▓▓▓▓▓▓▓▓├─── board ───┤▓▓▓▓ reply 9 B ▓▓▓▓├────────
                                │ 5×10/baud   │ processing  │ 9×10/baud         │
                                │  = 2.6 ms   │  (a few ms) │  = 4.7 ms         │
            deadline            │             ├──────── timeout_s + reply wire time ───┤
            retry (reads only)      if the deadline passes, or only bad frames came:
                                    count, flush input, send again (at most ``retries``)

        :raises NoAnswer: nothing valid came in any attempt (the last one heard nothing).
        :raises BadFrame: bytes came, but no valid answer (checksum, length, wrong answer).
            Either error's ``attempts`` says how each try ended (:class:`FailureKind`).
        :raises BoardRefused: the board answered "no".
        :raises PortUnavailable: the port is missing or broke (it is reopened later).
        """
        found: list[T] = []

        def take(raw: bytes) -> bool:
            value = accept(raw)
            if value is None:
                return False
            found.append(value)
            return True

        self._exchange(
            frame,
            rule,
            take,
            lambda: bool(found),
            rule.max_length,
            self.retries if retries is None else retries,
            quiet_after_s,
            True,
            [],
            wait_s,
        )
        return found[0]

    def gather(
        self,
        frame: bytes,
        rule: FrameRule,
        accept: Callable[[bytes], tuple[K, T] | None],
        *,
        expect: int,
        reply_bytes: int,
        retries: int | None = None,
        failures: list[FailureKind] | None = None,
    ) -> dict[K, T]:
        """Send a request many boards answer (a broadcast); collect answers by key.

        Collects until ``expect`` distinct keys answered or the deadline (``timeout_s``
        plus the wire time of ``expect × reply_bytes``). A missing answer leads to a
        retry (answers already in are kept; a later one replaces an earlier one).
        Returns what came, possibly nothing: a board that is silent is not an error here.
        ``failures`` (if given) gets the :class:`FailureKind` of every attempt that ended
        without all the answers, so a caller can say why a board is missing.

        :raises BoardRefused: a board answered "no".
        :raises PortUnavailable: the port is missing or broke.
        """
        found: dict[K, T] = {}

        def take(raw: bytes) -> bool:
            item = accept(raw)
            if item is None:
                return False
            found[item[0]] = item[1]
            return True

        self._exchange(
            frame,
            rule,
            take,
            lambda: len(found) >= expect,
            expect * reply_bytes,
            self.retries if retries is None else retries,
            0.0,
            False,
            [] if failures is None else failures,
        )
        return found

    def send(self, frame: bytes, *, quiet_after_s: float = 0.0) -> None:
        """Send a frame that gets no answer (CU16 unlock, §1.6.1). Never retried.

        Returns once the bytes have left the host (``flush`` waits for the UART).
        :raises PortUnavailable: the port is missing or broke.
        """
        with self._line:
            self._wait_quiet()
            port = self._port.get()
            self._count(commands=1)
            try:
                self._discard_stale(port)
                _LOGGER.debug("%s → %s (no answer expected)", self.url, frame.hex(" "))
                port.write(frame)
                port.flush()
            except PORT_ERRORS as exc:
                self._port.fail(exc)
            self._quiet_until = time.monotonic() + quiet_after_s

    # -- internals ----------------------------------------------------------------

    def _exchange(
        self,
        frame: bytes,
        rule: FrameRule,
        take: Callable[[bytes], bool],
        done: Callable[[], bool],
        reply_bytes: int,
        retries: int,
        quiet_after_s: float,
        required: bool,
        failures: list[FailureKind],
        wait_s: float = 0.0,
    ) -> None:
        problem: FailureKind | BoardRefused = FailureKind.SILENCE
        with self._line:
            self._wait_quiet()
            self._count(requests=1)
            try:
                for attempt in range(retries + 1):
                    if attempt:
                        self._count(retries=1)
                    port = self._port.get()
                    problem = self._attempt(port, frame, rule, take, done, reply_bytes, wait_s)
                    if done():
                        return
                    if not isinstance(problem, BoardRefused):
                        failures.append(problem)
                        self._tally.add(**{"timeouts": 1, ATTEMPT_COUNTER[problem]: 1})
                    _LOGGER.debug(
                        "%s: attempt %d for %s ended without a full answer: %s",
                        self.url,
                        attempt + 1,
                        frame.hex(" "),
                        problem if isinstance(problem, BoardRefused) else problem.text,
                    )
            finally:
                self._quiet_until = time.monotonic() + quiet_after_s
        if isinstance(problem, BoardRefused):
            raise problem
        if required:
            what = (
                f"no valid answer to {frame.hex(' ')} on {self.url} after {retries + 1} attempt(s)"
            )
            if problem is FailureKind.SILENCE:
                raise NoAnswer(what, failures, retries + 1)
            raise BadFrame(what, failures, retries + 1)

    def _attempt(
        self,
        port: Any,
        frame: bytes,
        rule: FrameRule,
        take: Callable[[bytes], bool],
        done: Callable[[], bool],
        reply_bytes: int,
        wait_s: float = 0.0,
    ) -> FailureKind | BoardRefused:
        """One try: flush, write, read until done or the deadline; say what went wrong.

        What went wrong is judged on what this attempt received (stale bytes from before
        the request do not count): a checksum failure is a :attr:`FailureKind.BAD_CHECKSUM`,
        any other bytes that made no answer a :attr:`FailureKind.TORN_FRAME`, nothing at all
        :attr:`FailureKind.SILENCE`. The value is meaningless when ``done()`` is true.
        """
        decoder = StreamDecoder(rule, max_buffer=4 * rule.max_length)
        unexpected = False
        try:
            self._discard_stale(port)
            _LOGGER.debug("%s → %s", self.url, frame.hex(" "))
            port.write(frame)
            port.flush()
            deadline = (
                time.monotonic() + wait_s + self.timeout_s + reply_bytes * self.byte_time_s
            )
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                port.timeout = left
                chunk = port.read(decoder.needed())
                if not chunk:
                    break
                for raw in decoder.feed(chunk):
                    try:
                        accepted = take(raw)
                    except BoardRefused as exc:
                        self._count(refusals=1)
                        _LOGGER.debug("%s ← %s refused: %s", self.url, raw.hex(" "), exc)
                        if not exc.retriable:
                            raise
                        return exc  # the request was damaged on the way: try again now
                    if accepted:
                        self._count(replies=1)
                        _LOGGER.debug("%s ← %s", self.url, raw.hex(" "))
                    else:
                        self._count(unexpected_answers=1)
                        _LOGGER.debug(
                            "%s ← %s (not an answer to this request)", self.url, raw.hex(" ")
                        )
                        unexpected = True
                    if done():
                        break
        except PORT_ERRORS as exc:
            self._port.fail(exc)
        finally:
            self._add_decoder(decoder.stats, decoder.pending())
        stats = decoder.stats
        if stats.checksum_errors:
            return FailureKind.BAD_CHECKSUM
        if unexpected or stats.malformed or stats.dropped_bytes or decoder.pending():
            return FailureKind.TORN_FRAME
        return FailureKind.SILENCE

    def _discard_stale(self, port: Any) -> None:
        """Throw away what came in since the last exchange (a late answer, line noise,
        frames for nobody), counted as dropped bytes: nothing that arrived before a
        request is read as its answer, and garbage on an idle line still shows up."""
        port.timeout = 0
        stale = 0
        while stale < STALE_LIMIT:
            chunk = port.read(STALE_LIMIT - stale)
            if not chunk:
                break
            stale += len(chunk)
        else:  # a flood: the rest is flushed unread (the count says at least STALE_LIMIT)
            port.reset_input_buffer()
        if stale:
            _LOGGER.debug("%s: %d stale byte(s) dropped before a request", self.url, stale)
            self._count(dropped_bytes=stale)

    def _add_decoder(self, stats: DecoderStats, pending: int) -> None:
        if stats.dropped_bytes or stats.resyncs or pending:
            _LOGGER.debug(
                "%s: resync %d, dropped %d B, checksum errors %d, malformed %d, left %d B",
                self.url,
                stats.resyncs,
                stats.dropped_bytes,
                stats.checksum_errors,
                stats.malformed,
                pending,
            )
        self._count(
            checksum_errors=stats.checksum_errors,
            bad_frames=stats.malformed,
            dropped_bytes=stats.dropped_bytes + pending,
            resyncs=stats.resyncs,
        )

    def _wait_quiet(self) -> None:
        pause = self._quiet_until - time.monotonic()
        if pause > 0:
            time.sleep(pause)

    def _count(self, **amounts: int) -> None:
        self._tally.add(**amounts)
