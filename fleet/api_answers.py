"""The shapes of the hub's HTTP API: what its routes take and answer (OpenAPI schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from fleet import commands
from fleet.accounts import HubRole

# -- requests and answers --------------------------------------------------------------------------


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1000)


class TokenAnswer(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 (the scheme, not a secret)
    expires_at: datetime
    role: str


class AccountRequest(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1000)
    role: HubRole = "operator"


class AccountAnswer(BaseModel):
    name: str
    role: str
    created_at: datetime


class StationSummary(BaseModel):
    name: str
    online: bool
    last_seen: datetime | None
    boot: str
    events_applied: int  # every event up to this seq is in the views
    events_behind: int  # the station wrote this many the hub has not applied yet
    free: dict[str, Any]
    accessible_free: dict[str, Any]
    parcels: dict[str, int]  # live parcels by state
    open_alerts: int
    bus: dict[str, Any]


class CompartmentOut(BaseModel):
    id: int
    size: str
    state: str


class ParcelOut(BaseModel):
    id: int
    tracking_number: str
    carrier: str
    state: str
    size: str
    compartment_id: int | None
    deadline: datetime | None
    accessible: bool


class AlertOut(BaseModel):
    kind: str
    compartment_id: int | None
    detail: str
    raised_at: datetime


class EventOut(BaseModel):
    seq: int
    id: str
    type: str
    at: datetime
    received_at: datetime
    data: dict[str, Any]


class StationDetail(StationSummary):
    layout: dict[str, Any] | None
    compartments: list[CompartmentOut]
    live_parcels: list[ParcelOut]
    alerts: list[AlertOut]
    recent_events: list[EventOut]


class CommandRequest(BaseModel):
    type: str = Field(
        description="One of: " + ", ".join(commands.OPERATOR_COMMANDS) + ". No command "
        "opens a door: doors open only at the station."
    )
    args: dict[str, Any] = Field(default_factory=dict)


class ProblemOut(BaseModel):
    code: str
    detail: str


class CommandOut(BaseModel):
    id: str
    station: str
    type: str
    args: dict[str, Any]
    by: str
    issued_at: datetime
    state: str  # sent, ok, refused
    result: dict[str, Any] | None
    problem: ProblemOut | None
    answered_at: datetime | None
