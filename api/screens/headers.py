"""Security headers on the screens' pages: no framing (clickjacking), no sniffing, and a
Content-Security-Policy that lets a page load only the station's own scripts and styles.
Inline style attributes stay allowed (the front's doors are placed with them); inline
style elements and scripts do not (htmx is told not to add its indicator styles).
The API docs under /docs bring their own scripts and are left alone."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
HEADERS = (
    (b"content-security-policy", POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
EXEMPT = ("/docs", "/redoc", "/static-offline-docs")


class ScreenHeaders:
    """Adds the headers to every HTML answer outside the API docs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(EXEMPT):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    headers.extend(HEADERS)
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
