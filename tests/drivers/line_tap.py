"""Something on the line between the driver and the boards: a TCP tap that passes every
byte through and, in the boards' direction towards the driver, adds bytes of its own.

The driver opens ``socket://`` to the tap exactly as it would open a TCP-to-RS485 box; the
tap forwards to the simulator's TCP server. Each time the driver writes (a request, or an
unlock that gets no answer), the tap sends the injections planned for that write to the
driver ``delay_s`` later: random bytes, well-formed frames for other boards or other
commands, or replays of earlier real answers (the tap keeps every answer it passed on).
Nothing is ever added in the direction towards the boards.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from drivers.framing import StreamDecoder
from drivers.kerong_cu16 import REPLY_RULE


@dataclass(frozen=True)
class Injection:
    """Bytes the tap sends towards the driver after one of the driver's writes."""

    kind: str  # "random", "foreign", "replay": for the report
    data: bytes
    delay_s: float = 0.0


class LineTap:
    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("socket://").rsplit(":", 1)
        self._upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=1)
        self.url = f"socket://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._plan: deque[list[Injection]] = deque()  # one list per coming driver write
        self._due: list[tuple[float, bytes]] = []
        self._answers = StreamDecoder(REPLY_RULE, max_buffer=64)
        self.answers: list[bytes] = []  # every real answer frame passed to the driver
        self.writes = 0  # driver writes seen
        self.injected: dict[str, int] = {"random": 0, "foreign": 0, "replay": 0}
        self.injected_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="line-tap", daemon=True)

    def plan(self, per_write: list[list[Injection]]) -> None:
        """Injections for the driver's next writes, in order (the rest get none)."""
        with self._lock:
            self._plan.clear()
            self._plan.extend(per_write)

    def idle(self) -> bool:
        """Nothing planned or scheduled is still to be sent."""
        with self._lock:
            return not self._due

    def clear_plan(self) -> None:
        with self._lock:
            self._plan.clear()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _on_driver_write(self, now: float) -> None:
        with self._lock:
            self.writes += 1
            planned = self._plan.popleft() if self._plan else []
            for item in planned:
                self._due.append((now + item.delay_s, item.data))
                self.injected[item.kind] += 1
                self.injected_bytes += len(item.data)
            self._due.sort(key=lambda due: due[0])

    def _send_due(self, driver: socket.socket, now: float) -> float | None:
        with self._lock:
            while self._due and self._due[0][0] <= now:
                driver.sendall(self._due.pop(0)[1])
            return self._due[0][0] - now if self._due else None

    def _run(self) -> None:
        self._listener.settimeout(0.05)
        driver = None
        while driver is None and not self._stop.is_set():
            try:
                driver, _ = self._listener.accept()
            except TimeoutError:
                continue
        if driver is None:
            return
        board_side = socket.create_connection(self._upstream)
        for sock in (driver, board_side):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with selectors.DefaultSelector() as selector, driver, board_side:
            selector.register(driver, selectors.EVENT_READ, board_side)
            selector.register(board_side, selectors.EVENT_READ, driver)
            wait: float | None = 0.02
            while not self._stop.is_set():
                events = selector.select(timeout=min(wait, 0.02) if wait is not None else 0.02)
                for key, _ in events:
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(4096)
                    if not data:
                        return
                    key.data.sendall(data)
                    if source is driver:
                        self._on_driver_write(time.monotonic())
                    else:
                        self.answers.extend(self._answers.feed(data))
                wait = self._send_due(driver, time.monotonic())


@contextmanager
def tapped(upstream: str) -> Iterator[LineTap]:
    tap = LineTap(upstream)
    tap.start()
    try:
        yield tap
    finally:
        tap.stop()
