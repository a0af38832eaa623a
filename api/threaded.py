"""Serve an app with uvicorn on a loopback port in a thread: real HTTP for the tests and
the benchmarks, beside the code that drives it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI


@contextmanager
def served(app: FastAPI, **config: Any) -> Iterator[str]:
    """Yield the base URL while the app runs (its lifespan included); ``config`` goes to
    uvicorn's (``ssl_certfile`` and ``ssl_keyfile``: served over TLS, an https URL;
    ``log_level="info"``: an access line per request, as ``locker serve`` writes)."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            **{
                "host": "127.0.0.1",
                "port": 0,
                "log_level": "warning",
                "lifespan": "on",
                "proxy_headers": False,  # as locker serve: the client address is the peer's
                **config,
            },
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        scheme = "https" if config.get("ssl_certfile") else "http"
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
