"""Every error is ``application/problem+json`` (RFC 9457) with a stable machine ``code``.

Domain errors carry their code and status; request validation, unknown routes and the
API's own refusals are mapped here; anything unexpected is logged and answered as
``internal_error`` without details.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.access_log import loggable_path
from common.problems import Problems, invalid_fields
from locker.errors import DomainError

_LOGGER = logging.getLogger(__name__)
TYPE_BASE = "urn:open-pickup-station:problem:"


class ProblemError(Exception):
    """An answer the API gives on purpose, with extra members for the body."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    422: "Invalid request",
    429: "Too many attempts",
    500: "Internal error",
    503: "Unavailable",
}


_PROBLEMS = Problems(TYPE_BASE, lambda status, _code: TITLES.get(status, "Error"))


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """The station's problem answer (its ``type`` URN, its titles)."""
    return _PROBLEMS.answer(status, code, detail, headers, **extra)


def from_domain(exc: DomainError) -> JSONResponse:
    """A domain refusal; a misconfigured station answers 503, never a bare 500."""
    return _PROBLEMS.of_error(exc, status=exc.status if exc.status < 500 else 503)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a problem document."""

    @app.exception_handler(ProblemError)
    async def _problem(_request: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        return from_domain(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = invalid_fields(exc)
        if not _request.url.path.startswith("/api/"):  # a screen's form: a fragment it shows
            said = "; ".join(
                f"{e['where'].removeprefix('body.').removeprefix('query.')}: "
                f"{str(e['problem']).removeprefix('Value error, ')}"
                for e in errors
            )
            return HTMLResponse(  # type: ignore[return-value]
                '<p class="message bad" role="alert" data-problem="invalid_request">'
                f"invalid_request: {html.escape(said)}</p>",
                status_code=422,
            )
        return problem(422, "invalid_request", "The request is not valid.", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, f"http_{exc.status_code}")
        return problem(exc.status_code, code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        _LOGGER.exception(
            "unexpected failure in %s %s", request.method, loggable_path(request.url.path)
        )
        return problem(500, "internal_error", "Something went wrong inside the station.")
