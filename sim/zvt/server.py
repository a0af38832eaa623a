"""Serve a :class:`~sim.zvt.terminal.TerminalSim` on TCP, as a card terminal on the LAN
does (port 20007 there; here any free port on loopback by default).

Each connection gets its own thread and :class:`~sim.zvt.session.Session`; the terminal's
state (and its one running transaction) is shared by all of them.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections.abc import Iterator

from sim.zvt.scripts import COMMANDS
from sim.zvt.session import Session
from sim.zvt.terminal import TerminalSim

_LOGGER = logging.getLogger(__name__)
POLL_S = 0.05
SEND_TIMEOUT_S = 5.0


@contextlib.contextmanager
def serve_zvt(sim: TerminalSim, host: str = "127.0.0.1", port: int = 0) -> Iterator[int]:
    """Listen for stations until the block ends; yields the port (the free one the system
    picked when ``port`` is 0)."""
    listener = socket.create_server((host, port))
    stop = threading.Event()
    sessions: list[threading.Thread] = []

    def talk(conn: socket.socket) -> None:
        try:
            with conn:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.settimeout(SEND_TIMEOUT_S)  # a station that stops reading is dropped
                Session(conn, sim, stop, COMMANDS).serve()
        finally:
            sim.connected(-1)

    def accept() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([listener], [], [], POLL_S)
            if not ready:
                continue
            try:
                conn, peer = listener.accept()
            except OSError:
                return
            _LOGGER.info("zvt sim: station %s connected", peer)
            sim.connected(+1)  # counted before the thread runs: a test may wait for 0
            thread = threading.Thread(target=talk, args=(conn,), name="zvt-session", daemon=True)
            thread.start()
            sessions[:] = [t for t in sessions if t.is_alive()] + [thread]

    acceptor = threading.Thread(target=accept, name="zvt-accept", daemon=True)
    acceptor.start()
    bound: int = listener.getsockname()[1]
    _LOGGER.info("zvt sim: listening on %s:%d", host, bound)
    try:
        yield bound
    finally:
        stop.set()
        acceptor.join()
        listener.close()
        for thread in list(sessions):
            thread.join()
