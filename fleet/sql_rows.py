"""Many rows as one statement parameter: a JSON array of objects, which PostgreSQL reads with
``json_to_recordset(…) AS u(column type, …)``.

A batch of ingest writes hundreds of rows to a table with one statement; sent as arrays,
one per column, their adaptation costs more CPU than the statement (psycopg dumps each
array element by element in Python); sent as one JSON text, ``json.dumps`` does it in C.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any


def rows_json(rows: Iterable[Mapping[str, Any]]) -> str:
    return json.dumps(list(rows), default=_plain, separators=(",", ":"))


def _plain(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not for a row")
