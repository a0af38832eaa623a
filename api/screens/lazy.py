"""Routes made on their first use (issue 29, the small computer's budget).

The screens are ~90 routes in a dozen modules whose import and route building was a third
of a start. :class:`LazyRoutes` stands in their place in the app's route list: the first
request that reaches it (the first screen shown, or any path no API route took) imports
and builds them, once, and every request is then matched against them in their order, as
if they had been included at start. The API's routes, before it in the list, are built at
start as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

CHOSEN = "locker.lazy_route"  # the scope's note of which of the routes matched


class LazyRoutes(BaseRoute):
    """``build()`` gives the routes (e.g. an ``APIRouter``'s, with routers included)."""

    def __init__(self, build: Callable[[], Sequence[BaseRoute]]) -> None:
        self._build = build
        self._routes: list[BaseRoute] | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._routes is not None

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes, built on the first call."""
        if self._routes is None:
            with self._lock:
                if self._routes is None:
                    self._routes = list(self._build())
        return self._routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """The first full match, else the first partial one (a path known under another
        method), as the router itself chooses."""
        partial: Scope | None = None
        for route in self.routes:
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                return match, {**child_scope, CHOSEN: route}
            if match == Match.PARTIAL and partial is None:
                partial = {**child_scope, CHOSEN: route}
        if partial is not None:
            return Match.PARTIAL, partial
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope.pop(CHOSEN)
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)
