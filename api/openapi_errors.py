"""The error answers in the OpenAPI document: every one is ``application/problem+json``
with the Problem schema, so clients (and the schemathesis tests) can rely on its shape.

Routers and routes name the statuses their domain gives with ``problem_responses(...)``
(or a plain description). ``declare(app)`` then completes the document in one pass over
every operation: 401 and 403 where a sign-in is needed, 400 and 413 where a body is
sent, 422
(FastAPI's own validation answer, which this app turns into a Problem), and the Problem
content for every error status that has no body of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from api.problems import TITLES
from common.problems import MEDIA_TYPE, Problem

SCHEMA_NAME = "Problem"
_REF = f"#/components/schemas/{SCHEMA_NAME}"
_FASTAPI_VALIDATION = "#/components/schemas/HTTPValidationError"
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _content() -> dict[str, Any]:
    return {MEDIA_TYPE: {"schema": {"$ref": _REF}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a router or a route: these statuses answer with a Problem."""
    return {s: {"description": TITLES.get(s, "Error"), "content": _content()} for s in statuses}


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == _FASTAPI_VALIDATION)


def _complete(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    implied = set()
    if operation.get("security"):
        implied |= {"401", "403"}
    if "requestBody" in operation:
        implied |= {"400", "413"}  # a body that is not JSON at all; one too large
    for status in implied:
        responses.setdefault(status, {"description": TITLES[int(status)]})
    for status, response in responses.items():
        if not status.isdigit() or int(status) < 400:
            continue
        if _is_fastapi_validation(response):
            response["description"] = TITLES[422]
            response["content"] = _content()
        elif "content" not in response:  # a description alone: the body is a Problem
            response["content"] = _content()
    operation["responses"] = dict(sorted(responses.items()))


def _with_problems(document: dict[str, Any]) -> dict[str, Any]:
    for path in document.get("paths", {}).values():
        for method, operation in path.items():
            if method in _METHODS:
                _complete(operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)  # replaced by the Problem everywhere
    schemas.pop("ValidationError", None)
    schemas[SCHEMA_NAME] = Problem.model_json_schema()
    return document


def declare(app: FastAPI) -> None:
    """Complete the app's OpenAPI document with its error answers (built once, on demand)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()  # FastAPI's, cached until the routes change
        if SCHEMA_NAME not in document.get("components", {}).get("schemas", {}):
            _with_problems(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
