"""A carrier's webhook receiver: a real HTTP server on loopback that checks each
signature (as a carrier would, with :func:`locker.notify.messages.verify_signature`) and
keeps what it was sent. ``fail_next`` makes it answer 500 to the next requests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from locker.notify.messages import verify_signature


@dataclass
class Received:
    body: dict[str, Any]
    headers: dict[str, str]
    signed: bool
    at: float = field(default_factory=time.time)  # when it came (wall clock, for bench lags)


@dataclass
class Receiver:
    url: str
    key: str = ""  # the carrier's signing key, once known
    got: list[Received] = field(default_factory=list)
    refused: int = 0  # requests answered 500 on purpose
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.body for r in self.got]

    def all_signed(self) -> bool:
        with self.lock:
            return all(r.signed for r in self.got)


@contextmanager
def webhook_receiver(path: str = "/hooks") -> Iterator[Receiver]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    receiver.refused += 1
                    self.send_response(500)
                    self.end_headers()
                    return
                signed = verify_signature(
                    receiver.key,
                    self.headers.get("X-Station-Signature", ""),
                    data,
                    now=int(time.time()),
                    tolerance_s=300,
                )
                receiver.got.append(Received(json.loads(data), dict(self.headers), signed))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver")
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
