"""Commands the hub gives a station: a row in ``commands`` and the signed message.

Operators may give ``announce``, ``extend``, ``out_of_service``, ``back_in_service``,
``revoke_courier`` and ``snapshot``; ``resend`` is the hub's own (ingest asks for a gap).
No command opens a door: there is no such type, here or in the messages.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from fleet.errors import UnknownCommand
from fleet.registry import command_key
from fleet.tables import CommandRow
from locker.uplink.messages import Command, CommandType

Size = Literal["S", "M", "L", "XL"]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnnounceArgs(_Args):
    tracking_number: str = Field(min_length=1, max_length=100)
    carrier: str = Field(min_length=1, max_length=100)
    size: Size
    recipient_name: str = Field(min_length=1, max_length=200)
    recipient_email: str | None = Field(default=None, max_length=254)
    recipient_phone: str | None = Field(default=None, max_length=40)
    accessible: bool = False  # the recipient needs a low compartment
    recipient_language: Literal["en", "de"] | None = None  # the station's default: en


class ExtendArgs(_Args):
    parcel_id: int | None = None
    tracking_number: str | None = Field(default=None, min_length=1, max_length=100)
    until: datetime

    @model_validator(mode="after")
    def _one_parcel(self) -> ExtendArgs:
        if (self.parcel_id is None) == (self.tracking_number is None):
            raise ValueError("give either parcel_id or tracking_number")
        return self


class OutOfServiceArgs(_Args):
    compartment_id: int
    reason: str = Field(min_length=1, max_length=500)


class BackInServiceArgs(_Args):
    compartment_id: int
    note: str = Field(default="", max_length=500)


class RevokeCourierArgs(_Args):
    name: str = Field(min_length=1, max_length=100)


class SnapshotArgs(_Args):
    pass


class ResendArgs(_Args):
    from_seq: int = Field(ge=1)


ARGS: dict[str, type[_Args]] = {
    "announce": AnnounceArgs,
    "extend": ExtendArgs,
    "out_of_service": OutOfServiceArgs,
    "back_in_service": BackInServiceArgs,
    "revoke_courier": RevokeCourierArgs,
    "snapshot": SnapshotArgs,
}
OPERATOR_COMMANDS = tuple(ARGS)  # what POST …/commands and …/announcements may give


def check_type(kind: str) -> CommandType:
    if kind not in ARGS:
        raise UnknownCommand(
            f"There is no command {kind!r}. A station takes: {', '.join(OPERATOR_COMMANDS)}. "
            "No command opens a door: doors open only at the station."
        )
    return kind  # type: ignore[return-value]


def message_of(row: CommandRow) -> Command:
    """The command a row records, unsigned (signing it again gives the same signature)."""
    return Command(
        id=row.id,
        station=row.station,
        type=row.type,
        args=row.args,
        issued_at=row.issued_at,
        by=row.by,
    )


def issue(
    session: Session,
    station: str,
    kind: CommandType,
    args: _Args,
    *,
    by: str,
    now: datetime,
) -> Command:
    """Record the command (state ``sent``) and return it signed with the station's key;
    the caller publishes it after the transaction commits."""
    key = command_key(session, station)
    body: dict[str, Any] = args.model_dump(mode="json", exclude_none=True)
    command = Command(
        id=uuid.uuid4().hex, station=station, type=kind, args=body, issued_at=now, by=by
    ).signed(key)
    session.add(
        CommandRow(id=command.id, station=station, type=kind, args=body, by=by, issued_at=now)
    )
    return command
