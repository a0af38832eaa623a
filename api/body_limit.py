"""The station's ceiling on request bodies (:mod:`common.body_limit`, as the hub's): every
body the API takes is small (a code, a parcel's address), so anything bigger is refused
with ``413 request_too_large`` before the app reads it."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp

from api.problems import problem
from common import body_limit

MAX_BODY_BYTES = 64 * 1024
# A staff member's CSV file of the directory (tens of thousands of people) may be larger.
LARGER_BODIES = {
    "/api/v1/recipients/import": 2 * 1024 * 1024,
    "/staff/directory/import": 2 * 1024 * 1024,
}


def _refusal(max_bytes: int) -> Response:
    return problem(
        413, "request_too_large", f"The request body is larger than {max_bytes // 1024} KiB."
    )


class BodyLimit(body_limit.BodyLimit):
    """The station's: ``MAX_BODY_BYTES``, ``LARGER_BODIES`` for a directory's import."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        super().__init__(app, refuse=_refusal, max_bytes=max_bytes, larger=LARGER_BODIES)
