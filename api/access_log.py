"""What the station's access log may say about a request: its method, status and path,
never its query string (a directory search carries a recipient's name) nor the secret a
recipient's link carries in its path (``/pay/…``, ``/extend/…``).

uvicorn writes one line per request to standard output, which under systemd is the
journal; :func:`redact_access_log` puts a filter on its logger that rewrites the path
before the line is formatted.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"
SECRET_PATHS = ("/pay/", "/extend/")  # the next segment is a recipient's link token
MASK = "…"


def loggable_path(path: str) -> str:
    """``path`` as a log line may show it: no query string, no link token."""
    bare, query, _ = path.partition("?")
    for prefix in SECRET_PATHS:
        if bare.startswith(prefix):
            _, slash, rest = bare[len(prefix) :].partition("/")
            bare = f"{prefix}{MASK}{slash}{rest}"
            break
    return bare + (f"?{MASK}" if query else "")


class RedactPaths(logging.Filter):
    """Rewrites the path of uvicorn's access record (its third argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], loggable_path(args[2]), *args[3:])
        return True


def redact_access_log() -> None:
    """Filter uvicorn's access log (once; uvicorn's logging set-up keeps the filter)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(found, RedactPaths) for found in logger.filters):
        logger.addFilter(RedactPaths())
