"""A ceiling on request bodies, for the station and the hub alike: every body either takes
is small (a code, a parcel's address, a command), so anything bigger is refused with
``413`` before the app reads it, instead of being held in memory.

A declared ``Content-Length`` over the limit is refused at once, without reading a byte
of the body; a body sent in chunks without one is counted as it comes and refused as soon
as it passes the limit (the server's own flow control holds the rest back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Refusal = Callable[[int], Response]  # the answer to a body over this many bytes


class BodyLimit:
    """ASGI middleware: at most ``max_bytes`` per body, ``larger`` ones on named paths."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        refuse: Refusal,
        max_bytes: int,
        larger: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.refuse = refuse
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:  # the server reads no more than the declared length
            if declared.isdigit() and int(declared) <= limit:
                await self.app(scope, receive, send)
            else:
                await self.refuse(limit)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:  # counted as it comes
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self.refuse(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
