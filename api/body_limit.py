"""A ceiling on request bodies: every body the API takes is small (a code, a parcel's
address), so anything bigger is refused with ``413 request_too_large`` before the app
reads it, instead of being held in the station's memory."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem

MAX_BODY_BYTES = 64 * 1024
# A staff member's CSV file of the directory (tens of thousands of people) may be larger.
LARGER_BODIES = {
    "/api/v1/recipients/import": 2 * 1024 * 1024,
    "/staff/directory/import": 2 * 1024 * 1024,
}


class BodyLimit:
    """ASGI middleware: a declared length is checked before the body is read; a body sent
    in chunks without one is read here (at most ``max_bytes``), then handed to the app."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = LARGER_BODIES.get(scope.get("path", ""), self.default_max_bytes)
        if limit != self.default_max_bytes:
            await BodyLimit(self.app, limit)(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:  # the server reads no more than the declared length
            if declared.isdigit() and int(declared) <= self.max_bytes:
                await self.app(scope, receive, send)
            else:
                await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:  # counted as it comes
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
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

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413,
            "request_too_large",
            f"The request body is larger than {self.max_bytes // 1024} KiB.",
        )
        await response(scope, receive, send)
