"""Serve a :class:`SimBus` on the far end of a real serial line: a pty or a TCP socket.

* :func:`serve_pty` opens a pseudo-terminal, sets both ends raw and yields the slave's path,
  which pyserial opens like any serial port (``serial.serial_for_url(path)``).
* :func:`serve_tcp` listens like a Kerong "BU" TCP-to-RS485 box (lock-protocol.md section 8):
  one client at a time, the next accepted after it disconnects. It yields the pyserial URL
  ``socket://HOST:PORT``.

Each runs one thread that reads the host's bytes, models their time on the wire, lets the bus
act and writes the answers paced at the wire rate (:mod:`sim.timing`). Both context managers
stop their thread and close every descriptor on exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
import tty
from collections.abc import Callable, Iterator

from sim.bus import Answer, BoardConfig, SimBus
from sim.faults import Fault
from sim.timing import Pacer, Wire

__all__ = ["Answer", "BoardConfig", "Fault", "SimBus", "serve_pty", "serve_tcp"]

_LOGGER = logging.getLogger(__name__)

POLL_S = 0.05  # how often the serving threads look at their stop flag
READ_SIZE = 4096
SEND_TIMEOUT_S = 1.0  # a TCP client that stops reading for this long is dropped


class _Line:
    """One host connection: decoder, wire model and answers."""

    def __init__(self, bus: SimBus, write: Callable[[bytes], None], stop: threading.Event):
        self._bus = bus
        self._decoder = bus.new_decoder()
        self._wire = Wire()
        self._pacer = Pacer(write, stop, bus.clock)

    def on_bytes(self, chunk: bytes, now: float) -> None:
        bus, decoder = self._bus, self._decoder
        bad_before = decoder.bad_frames
        self._wire.received(decoder.position, len(chunk), now, bus.byte_time_s)
        decoded = decoder.feed(chunk)
        bus.count_bad(decoder.bad_frames - bad_before)
        for item in decoded:
            received_at = self._wire.arrival(item.end)
            bus.record(item.frame, item.raw, received_at)
            if not self._answer(item.frame, received_at):
                return

    def _answer(self, frame: object, received_at: float) -> bool:
        bus = self._bus
        act_at = received_at + bus.processing_s
        if not self._pacer.sleep_until(act_at):
            return False
        earliest = act_at
        for answer in bus.respond(frame, act_at):
            if not self._send(answer, earliest):
                return False
            earliest = self._wire.free_at + bus.processing_s
        return True

    def _send(self, answer: Answer, earliest: float) -> bool:
        byte_s = self._bus.byte_time_s
        start = self._wire.reserve(len(answer.data), earliest + answer.delay_s, byte_s)
        _LOGGER.debug("tx board %d: %s", answer.board, answer.data.hex(" "))
        return self._pacer.send(answer.data, start, byte_s)


def _write_fd(fd: int, data: bytes) -> None:
    """Write to the non-blocking pty master; bytes nobody reads are lost, as on a real line."""
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            _LOGGER.debug("pty full: %d byte(s) dropped", len(view))
            return
        view = view[written:]


def _serve_fd(master: int, line: _Line, bus: SimBus, stop: threading.Event) -> None:
    while not stop.is_set():
        ready, _, _ = select.select([master], [], [], POLL_S)
        if not ready:
            continue
        try:
            chunk = os.read(master, READ_SIZE)
        except BlockingIOError:
            continue
        except OSError:
            _LOGGER.exception("pty read failed; simulator stops")
            return
        if not chunk:
            continue
        try:
            _handle(line, chunk, bus)
        except OSError:
            _LOGGER.exception("pty write failed; simulator stops")
            return


def _handle(line: _Line, chunk: bytes, bus: SimBus) -> None:
    try:
        line.on_bytes(chunk, bus.clock())
    except OSError:
        raise
    except Exception:  # a model bug must not kill the server thread silently
        _LOGGER.exception("simulator failed on %s", chunk.hex(" "))


@contextlib.contextmanager
def serve_pty(bus: SimBus) -> Iterator[str]:
    """Serve ``bus`` on a new pty; yield the path of its slave end for the host to open."""
    master, slave = os.openpty()
    try:
        tty.setraw(master)
        tty.setraw(slave)
        os.set_blocking(master, False)
        path = os.ttyname(slave)
    except BaseException:
        os.close(master)
        os.close(slave)
        raise
    stop = threading.Event()
    line = _Line(bus, lambda data: _write_fd(master, data), stop)
    thread = threading.Thread(
        target=_serve_fd, args=(master, line, bus, stop), name=f"sim-pty {path}", daemon=True
    )
    thread.start()
    _LOGGER.info("serving %s bus %s on %s", bus.protocol, bus.addresses, path)
    try:
        yield path
    finally:
        stop.set()
        thread.join()
        # The slave stays open until here, so the master never sees EIO when the host closes.
        os.close(master)
        os.close(slave)


def _serve_client(conn: socket.socket, bus: SimBus, stop: threading.Event) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # paced chunks go out at once
    conn.settimeout(SEND_TIMEOUT_S)
    line = _Line(bus, conn.sendall, stop)
    while not stop.is_set():
        ready, _, _ = select.select([conn], [], [], POLL_S)
        if not ready:
            continue
        chunk = conn.recv(READ_SIZE)
        if not chunk:
            return
        _handle(line, chunk, bus)


def _serve_listener(server: socket.socket, bus: SimBus, stop: threading.Event) -> None:
    while not stop.is_set():
        ready, _, _ = select.select([server], [], [], POLL_S)
        if not ready:
            continue
        conn, peer = server.accept()
        _LOGGER.info("client %s connected", peer)
        with conn:
            try:
                _serve_client(conn, bus, stop)
            except OSError as exc:
                _LOGGER.info("client %s lost: %s", peer, exc)
        _LOGGER.info("client %s gone", peer)


@contextlib.contextmanager
def serve_tcp(bus: SimBus, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``bus`` on a TCP listener (``port=0``: any free port); yield ``socket://HOST:PORT``."""
    server = socket.create_server((host, port), backlog=1)
    stop = threading.Event()
    thread = threading.Thread(
        target=_serve_listener, args=(server, bus, stop), name=f"sim-tcp {host}", daemon=True
    )
    url = f"socket://{host}:{server.getsockname()[1]}"
    thread.start()
    _LOGGER.info("serving %s bus %s on %s", bus.protocol, bus.addresses, url)
    try:
        yield url
    finally:
        stop.set()
        thread.join()
        server.close()
