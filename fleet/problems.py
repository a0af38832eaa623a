"""The hub's error answers: every failure is ``application/problem+json`` with a stable
``code`` (the body's shape is :mod:`common.problems`'), titled with its code's words."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.problems import Problems, invalid_fields, openapi_responses
from fleet.errors import FleetError

_LOG = logging.getLogger(__name__)
TYPE_BASE = "urn:open-pickup-station:hub:problem:"
_ANSWERS = Problems(TYPE_BASE, lambda _status, code: code.replace("_", " "))

# The problems every route of the hub may answer, as its OpenAPI document lists them.
DOCUMENTED = openapi_responses(
    {
        400: "The body is not JSON",
        401: "Not signed in",
        403: "Role too low",
        404: "No such station, command or announcement",
        409: "It exists already, or there is no room",
        413: "The request body is too large",
        422: "Invalid",
        429: "Too many wrong passwords (signing in)",
    }
)


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    """The hub's problem answer."""
    return _ANSWERS.answer(status, code, detail, **extra)


def install_problems(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a problem document."""

    @app.exception_handler(FleetError)
    async def _fleet(_request: Request, exc: FleetError) -> JSONResponse:
        return _ANSWERS.of_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = invalid_fields(exc)
        return problem(422, "invalid_request", "The request is not valid.", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _internal(_request: Request, exc: Exception) -> JSONResponse:
        _LOG.error("unexpected error", exc_info=exc)
        return problem(500, "internal_error", "Something went wrong on the hub.")
