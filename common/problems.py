"""Answers in ``application/problem+json`` (RFC 9457), as the station and the hub give them.

Each side has its own ``type`` URN and its own titles; the body's shape, the answer to a
:class:`~common.errors.CodedError` (with ``Retry-After`` when it is throttled) and the list
of what a request got wrong are the same, and written here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from common.errors import CodedError, Throttled

MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """The body of every error answer; further members depend on the ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    detail: str


class Problems:
    """The problem answers of one application: its ``type`` URN prefix and its titles."""

    def __init__(self, type_base: str, title: Callable[[int, str], str]) -> None:
        self.type_base = type_base
        self.title = title

    def answer(
        self,
        status: int,
        code: str,
        detail: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> JSONResponse:
        """A problem answer with ``extra`` members beside the standard ones."""
        body = {
            "type": self.type_base + code,
            "title": self.title(status, code),
            "status": status,
            "code": code,
            "detail": detail,
            **extra,
        }
        return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)

    def of_error(self, exc: CodedError, *, status: int | None = None) -> JSONResponse:
        """The answer to a coded error (``status`` overrides its own); a throttled one
        says when to come back, in the body and in ``Retry-After``."""
        if isinstance(exc, Throttled):
            return self.answer(
                exc.status,
                exc.code,
                exc.message,
                headers={"Retry-After": str(exc.retry_after)},
                retry_after=exc.retry_after,
            )
        return self.answer(status or exc.status, exc.code, exc.message)


def openapi_responses(statuses: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` an OpenAPI document lists for these statuses, each a problem."""
    return {
        status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": text}
        for status, text in statuses.items()
    }


def invalid_fields(exc: RequestValidationError) -> list[dict[str, str]]:
    """What a request got wrong: where (``body.name``) and the problem, one per field."""
    return [
        {"where": ".".join(str(p) for p in err.get("loc", ())), "problem": err.get("msg", "")}
        for err in exc.errors()
    ]
