"""A webhook receiver on loopback (http.server in a thread): it checks each request's
signature as a shop's or carrier's server would, answers 500 to the first ``fail_first``
requests (to see the retries), and keeps what it accepted."""

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
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    secrets: dict[str, str] = field(default_factory=dict)  # path -> secret
    fail_first: int = 0
    accepted: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why, for each refused request
    calls: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def for_path(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.accepted if r.headers["path"] == path]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.calls += 1
                failing = receiver.calls <= receiver.fail_first
            secret = receiver.secrets.get(self.path, "")
            signed = verify_signature(
                secret,
                self.headers.get("X-Station-Signature", ""),
                raw,
                now=int(time.time()),
                tolerance_s=300,
            )
            if failing or not signed:
                with receiver.lock:
                    receiver.refused.append("failing on purpose" if signed else "bad signature")
                self.send_response(500 if signed else 401)
                self.end_headers()
                return
            headers = {k: v for k, v in self.headers.items()}
            headers["path"] = self.path
            with receiver.lock:
                receiver.accepted.append(Received(headers, json.loads(raw)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@contextmanager
def webhook_receiver(**kw: Any) -> Iterator[Receiver]:
    receiver = Receiver(**kw)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
