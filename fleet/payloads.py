"""Reading what a station sent: a payload parsed into its message model, or refused (and
counted) as a bad payload; a payload that carries anything like a pickup code is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fleet.errors import BadPayload
from locker.uplink.messages import (
    Event,
)

# Names a pickup code could travel under; an event carrying one is not stored (the hub
# keeps no codes, and a station that sends one has a bug to be seen in the log).
M = TypeVar("M", bound=BaseModel)
CODE_KEYS = frozenset({"pin", "qr", "qr_token", "code", "pickup_code", "pin_hash", "code_hash"})


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key).lower()
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def parse_payload(model: type[M], payload: bytes, station: str) -> M:
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadPayload("not_json", f"not JSON: {exc}") from None
    try:
        message = model.model_validate(body)
    except ValidationError as exc:
        raise BadPayload("bad_schema", f"not a {model.__name__}: {exc.errors()[:3]}") from None
    if getattr(message, "station", None) != station:
        raise BadPayload(
            "station_mismatch",
            f"a {model.__name__} of {getattr(message, 'station', None)!r} on {station!r}'s topic",
        )
    if isinstance(message, Event) and not CODE_KEYS.isdisjoint(_keys(message.data)):
        raise BadPayload("carries_code", f"event {message.seq} carries a pickup code: not kept")
    return message
