"""What the hub refuses before a route sees it, on every route of the API and the screens
(docs/fleet-hub.md, "What the hub refuses"):

- a body over ``MAX_BODY_BYTES`` (``413 request_too_large``, :mod:`common.body_limit`, as
  the station's), refused before it is read, signed in or not;
- a text holding a control or invisible format character (:mod:`common.text`) in any
  field: a path parameter, a query parameter, a form field, or any string of a JSON body,
  keys included, at any depth (``422 invalid_request``, each field named in ``errors``);
  passwords aside, which are only hashed;
- and over HTTPS (:func:`secure`), every answer says so with ``Strict-Transport-Security``
  and the screens' cookies are ``Secure``.

Integers are bounded where they are declared (:mod:`locker.uplink.command_args`, the
screens' path numbers): a command the station could not store is never signed.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common import body_limit
from common.text import SECRET_FIELDS, unprintable
from fleet.problems import problem
from fleet.settings import HubSettings

MAX_BODY_BYTES = 64 * 1024  # a command, an announcement, a grant for every station
HSTS = "max-age=31536000; includeSubDomains"  # a year: the hub is HTTPS from then on


def _too_large(max_bytes: int) -> Response:
    return problem(
        413, "request_too_large", f"The request body is larger than {max_bytes // 1024} KiB."
    )


class HubBodyLimit(body_limit.BodyLimit):
    """The hub's ceiling on request bodies (the outermost middleware: nothing reads more)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        from fleet.station_backups import CHUNK_BYTES, CHUNK_PATH

        # a station's backup comes in chunks of a MiB, on that one route only
        super().__init__(
            app, refuse=_too_large, max_bytes=max_bytes, larger={CHUNK_PATH: CHUNK_BYTES}
        )


def _strings(
    value: Any, where: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string of a JSON value and where it is (a key as well as its value), without
    recursion: a body may nest as deep as its parser lets it."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [(where, value)]
    while stack:
        at, item = stack.pop()
        if isinstance(item, str):
            yield at, item
        elif isinstance(item, dict):
            for key, inner in item.items():
                yield (*at, key), key
                if key not in SECRET_FIELDS:
                    stack.append(((*at, key), inner))
        elif isinstance(item, list):
            stack.extend(((*at, i), inner) for i, inner in enumerate(item))


async def _fields(request: Request) -> Iterator[tuple[tuple[str | int, ...], str]]:
    found: list[tuple[tuple[str | int, ...], str]] = []
    found += [(("path", k), v) for k, v in request.path_params.items() if isinstance(v, str)]
    for key, value in request.query_params.multi_items():
        found += [(("query", key), key), (("query", key), value)]
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()  # kept on the request: the route reads the same form
        for key, item in form.multi_items():
            found.append((("body", key), key))
            if isinstance(item, str) and key not in SECRET_FIELDS:
                found.append((("body", key), item))
    elif not kind or kind == "application/json" or kind.endswith("+json"):
        # as FastAPI reads a body: JSON when it says so, and when it says nothing
        raw = await request.body()
        try:
            document = json.loads(raw) if raw else None
        except ValueError:
            document = None  # not JSON: the route's own parsing answers
        found += list(_strings(document, ("body",)))
    return iter(found)


async def printable_fields(request: Request) -> None:
    """The dependency every route of the hub has (:func:`fleet.app.create_app` and the
    screens give it to theirs): no field may hold what a person cannot see as typed."""
    errors = []
    for where, text in await _fields(request):
        char = unprintable(text)
        if char is not None:
            errors.append(
                {
                    "loc": where,
                    "msg": f"contains a control or invisible format character ({char})",
                    "type": "string_unprintable",
                    "input": None,  # never echoed back: it is what cannot be shown
                }
            )
    if errors:
        raise RequestValidationError(errors)


def https_by_default(settings: HubSettings) -> bool:
    """The setting ``FLEET_HTTPS``; unset, on unless the hub listens on loopback only."""
    if settings.https is not None:
        return settings.https
    host = settings.http_host.strip("[]")
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name, or every address (0.0.0.0 is an address, not loopback)
        return True


def secure(request: Request) -> bool:
    """Whether this answer goes out as HTTPS's: the hub is set so, or it came over TLS."""
    settings: HubSettings = request.app.state.hub.settings
    return https_by_default(settings) or request.url.scheme == "https"


class StrictTransport:
    """ASGI middleware: ``Strict-Transport-Security`` on every answer when HTTPS is on (or
    the request came over TLS), so a browser never asks the hub in clear again."""

    def __init__(self, app: ASGIApp, settings: HubSettings) -> None:
        self.app = app
        self.always = https_by_default(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (self.always or scope.get("scheme") == "https"):
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"strict-transport-security", HSTS.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_hsts)
