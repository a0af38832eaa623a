"""Security headers on the station's screens: those of :mod:`common.screen_headers` (which
the hub's screen sends too), put on every HTML answer by a middleware. The API docs
(/docs, /redoc, /openapi.json and their files) get the same headers with a policy that
allows the one inline script with which Swagger UI and ReDoc start."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.screen_headers import SCREEN_HEADERS

HEADERS = tuple((name.lower().encode(), value.encode()) for name, value in SCREEN_HEADERS.items())
DOCS = ("/docs", "/redoc", "/openapi.json", "/static-offline-docs")
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
DOCS_HEADERS = ((b"content-security-policy", DOCS_POLICY.encode()), *HEADERS[1:])


class ScreenHeaders:
    """Adds the headers to every HTML answer outside the API docs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = str(scope.get("path", "")).startswith(DOCS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if docs:
                    headers.extend(DOCS_HEADERS)
                    message["headers"] = headers
                elif content_type.startswith(b"text/html"):
                    headers.extend(HEADERS)
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
