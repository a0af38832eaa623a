"""One station connection to the simulated terminal: its commands answered in ZVT's order.

The terminal acknowledges (``80 00 00``) or refuses (``84 xx``) each command, then sends
its messages one by one, each waiting for the station's ``80 00 00`` (repeated when it does
not come, then given up), with the modelled times between them. The station may abort
(``06 B0``) while the terminal waits for the card or the PIN, not later.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Mapping

from sim.zvt.codec import Frame, FrameBuffer, FrameError, pack
from sim.zvt.terminal import TerminalSim, ZvtFault

_LOGGER = logging.getLogger(__name__)

ACK = (0x80, 0x00)
STATION_ABORT = (0x06, 0xB0)
STATION_CLASSES = frozenset({0x80, 0x84, 0x05, 0x06})
POLL_S = 0.05
BUSY_CODE = 0xA0
NOT_POSSIBLE = 0x83


class Hangup(Exception):
    """The connection is over (the station closed it, or a fault drops it)."""


class Session:
    """The terminal's side of one TCP connection."""

    def __init__(
        self,
        conn: socket.socket,
        sim: TerminalSim,
        stop: threading.Event,
        commands: Mapping[tuple[int, int], Callable[[Session, Frame], None]],
    ) -> None:
        self.conn = conn
        self.commands = commands
        self.sim = sim
        self.stop = stop
        self._buffer = FrameBuffer()
        self._inbox: list[Frame] = []
        self.abort_asked = False
        self._holding = False  # this session runs the terminal's one transaction

    # -- the wire --------------------------------------------------------------------------
    def read(self, timeout: float) -> Frame | None:
        """The station's next frame, or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self._inbox:
            if self.stop.is_set():
                raise Hangup("simulator stopping")
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.conn], [], [], max(0.0, min(left, POLL_S)))
            if ready:
                try:
                    chunk = self.conn.recv(4096)
                except OSError as exc:
                    raise Hangup(str(exc)) from exc
                if not chunk:
                    raise Hangup("the station closed the connection")
                self._take(chunk)
            elif left <= 0:
                return None
        return self._inbox.pop(0)

    def _take(self, chunk: bytes) -> None:
        try:
            frames = self._buffer.push(chunk)
        except FrameError:
            frames = []
        for frame in frames:
            if frame.cls not in STATION_CLASSES:
                self.sim.bad_frames += 1
            self.sim.record(self.sim.received, frame.raw)
            _LOGGER.debug("zvt sim rx %s", frame.raw.hex(" "))
        self._inbox += frames

    def send(self, cls: int, ins: int, payload: bytes = b"") -> None:
        self.send_raw(pack(cls, ins, payload))

    def send_raw(self, raw: bytes) -> None:
        self.sim.record(self.sim.sent, raw)
        _LOGGER.debug("zvt sim tx %s", raw.hex(" "))
        try:
            self.conn.sendall(raw)
        except OSError as exc:
            raise Hangup(str(exc)) from exc

    def tell(self, cls: int, ins: int, payload: bytes = b"") -> bool:
        """Send a message and wait for the station's acknowledgement; repeat it when none
        comes; False when it never did (the terminal then gives up the transaction)."""
        times = self.sim.times
        for _ in range(1 + times.repeats):
            self.send(cls, ins, payload)
            deadline = time.monotonic() + times.ack_timeout_s
            while (left := deadline - time.monotonic()) > 0:
                frame = self.read(left)
                if frame is None:
                    break
                if (frame.cls, frame.ins) == ACK:
                    return True
                if (frame.cls, frame.ins) == STATION_ABORT:
                    self.abort_asked = True
        self.sim.unacknowledged += 1
        return False

    def wait(self, seconds: float, *, abortable: bool) -> bool:
        """Let modelled time pass; True when the station aborted in it (only when
        ``abortable``: else its abort is refused and the time runs on)."""
        if self.abort_asked and abortable:
            return True
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if self.sim.stepped():  # the customer (a test) moved on before the time was up
                return False
            frame = self.read(max(0.0, min(left, POLL_S)))
            if frame is None:
                if left <= POLL_S:
                    return False
                continue
            if (frame.cls, frame.ins) == STATION_ABORT:
                if abortable:
                    self.abort_asked = True
                    return True
                self.send(0x84, NOT_POSSIBLE)

    def hang_up(self) -> None:
        """Drop the connection at once (the link lost)."""
        with contextlib.suppress(OSError):
            self.conn.shutdown(socket.SHUT_RDWR)
        raise Hangup("the link drops")

    # -- the commands ----------------------------------------------------------------------
    def serve(self) -> None:
        try:
            while True:
                frame = self.read(POLL_S)
                if frame is not None:
                    self.dispatch(frame)
        except Hangup as why:
            _LOGGER.info("zvt sim: connection over (%s)", why)

    def dispatch(self, frame: Frame) -> None:
        handler = self.commands.get((frame.cls, frame.ins))
        if handler is None:
            if (frame.cls, frame.ins) != ACK:  # a late acknowledgement is no command
                self.send(0x84, NOT_POSSIBLE)
            return
        if ZvtFault.BUSY in self.sim.faults or not self.sim.begin():
            self.send(0x84, BUSY_CODE)
            return
        self._holding = True
        try:
            self.abort_asked = False
            handler(self, frame)
        finally:
            self._release()

    def final(self, cls: int, ins: int, payload: bytes = b"") -> bool:
        """The transaction's last message (completion or abort): the terminal is free for
        the next command from the moment it is sent."""
        self._release()
        return self.tell(cls, ins, payload)

    def refuse(self, code: int) -> None:
        """A refusal (84 xx) is the transaction's last word: the terminal is free from the
        moment it is sent. The station opens a new connection for its next request (a
        registration after 'not registered'), which must not find the terminal busy."""
        self._release()
        self.send(0x84, code)

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            self.sim.end()
