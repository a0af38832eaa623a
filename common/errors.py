"""The shape both error trees share (the station's ``DomainError``, the hub's ``FleetError``).

An error carries a stable machine ``code`` (what an API client branches on), the HTTP
``status`` it is answered with, and a ``message`` for people. Two shapes recur on both
sides and are written here once: a thing that does not exist (:class:`Missing`, whose code
names the thing) and a limit on attempts (:class:`Throttled`, which says when to retry).
"""

from __future__ import annotations

import math


class CodedError(Exception):
    """An error with a stable ``code``, the ``status`` it answers with, and a message."""

    code = "error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Missing(CodedError):
    """``what`` ``ident`` does not exist; the code is ``<what>_not_found``."""

    code = "not_found"
    status = 404

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} does not exist")
        self.code = f"{what}_not_found"
        self.what, self.ident = what, ident


class Throttled(CodedError):
    """Too many wrong attempts: ``retry_after`` whole seconds (at least one) to wait."""

    code = "too_many_attempts"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def whole_seconds(wait: float) -> int:
    """A wait rounded up to whole seconds, at least one: a client told to come back
    earlier than the wait ends would be refused again."""
    return max(1, math.ceil(wait))
