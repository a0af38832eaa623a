"""Fixtures for the simulator's tests: hygiene checks, hosts on a pty or a TCP socket."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import serial

from sim.server import SimBus, serve_pty, serve_tcp
from tests.sim.sim_support import Connect, Host


class _LogChecker(logging.Handler):
    """Fails the test on an ERROR from sim/ or on a log call whose %-format does not match."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.problems: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except (TypeError, ValueError) as exc:
            self.problems.append(f"bad log format {record.msg!r} {record.args!r}: {exc}")
            return
        if record.levelno >= logging.ERROR:
            self.problems.append(f"{record.name}: {message}")


def _open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


@pytest.fixture(autouse=True)
def hygiene() -> Iterator[None]:
    """No thread, descriptor or error log may outlive a test."""
    threads = set(threading.enumerate())
    fds = _open_fds()
    logger = logging.getLogger("sim")
    checker = _LogChecker()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(checker)
    try:
        yield
    finally:
        logger.removeHandler(checker)
        logger.setLevel(level)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:  # a stopped thread may need a moment to be reaped
        leaked = [t for t in threading.enumerate() if t not in threads and t.is_alive()]
        if not leaked:
            break
        time.sleep(0.01)
    assert not leaked, f"threads left running: {leaked}"
    assert not _open_fds() - fds, f"descriptors left open: {sorted(_open_fds() - fds)}"
    assert not checker.problems, checker.problems


@pytest.fixture(params=["pty", "tcp"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connect(transport: str) -> Iterator[Connect]:
    """Serve a bus on ``transport`` and open a pyserial port on it: ``host = connect(bus)``."""
    with ExitStack() as stack:

        def _connect(bus: SimBus) -> Host:
            server = serve_pty(bus) if transport == "pty" else serve_tcp(bus)
            where = stack.enter_context(server)
            port = serial.serial_for_url(where, baudrate=bus.baud, timeout=2.0)
            stack.callback(port.close)
            return Host(port)

        yield _connect
