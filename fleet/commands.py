"""Commands the hub gives a station: a row in ``commands`` and the signed message.

Operators may give ``announce``, ``extend``, ``out_of_service``, ``back_in_service``,
``revoke_courier`` and ``snapshot``; ``resend`` is the hub's own (ingest asks for a gap).
No command opens a door: there is no such type, here or in the messages.

An announcement's personal fields stay only until the station has answered it (see the end).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session

from fleet.errors import UnknownCommand
from fleet.registry import command_key
from fleet.tables import CommandRow
from locker.types import SizeClass
from locker.uplink import command_args as wire
from locker.uplink.messages import Command, CommandType


class AnnounceArgs(wire.AnnounceArgs):
    """An operator's announcement: its size is needed, and a language left out is the
    station's default (so it is not written into the signed command)."""

    size: SizeClass
    recipient_language: Literal["en", "de"] | None = None  # type: ignore[assignment]


# The contract of the messages (locker.uplink.command_args), under the hub's names.
ExtendArgs = wire.ExtendArgs
OutOfServiceArgs = wire.OutOfServiceArgs
BackInServiceArgs = wire.BackInServiceArgs
RevokeCourierArgs = wire.RevokeArgs
SnapshotArgs = wire.NoArgs
ResendArgs = wire.ResendArgs


ARGS: dict[str, type[wire.CommandArgs]] = {
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
    args: wire.CommandArgs,
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


# -- personal data (issue 26) ------------------------------------------------------------
# An announcement carries the recipient's name, e-mail address and phone number to the
# station: the hub holds them only until the station has answered (then they are blanked,
# :func:`after_answer`), and an erasure at the station blanks any that are left
# (:func:`erase_parcels`). Operators never read them whole (:func:`shown_args`), nor a
# grant's signature.
PERSONAL_ARGS = ("recipient_name", "recipient_email", "recipient_phone")
ERASED = ""  # what a blanked field holds


def personal_values(args: dict[str, Any]) -> set[str]:
    return {str(args[k]) for k in PERSONAL_ARGS if args.get(k)}


def after_answer(kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """A command's arguments once its station answered: no personal field is kept."""
    if not any(args.get(k) for k in PERSONAL_ARGS):
        return args
    return {k: (ERASED if k in PERSONAL_ARGS and v else v) for k, v in args.items()}


def initials(name: str) -> str:
    """``Anna Maria Meyer`` → ``A. M. M.``: enough to tell two parcels apart by eye."""
    return " ".join(f"{part[0].upper()}." for part in name.split() if part) or "–"


def shown_args(args: dict[str, Any]) -> dict[str, Any]:
    """What an operator sees of a command's arguments: no signature, the recipient's name
    as initials, whether an e-mail address or a phone number was given (not which)."""
    shown: dict[str, Any] = {}
    for key, value in args.items():
        if key == "sig":
            continue
        if key == "recipient_name":
            shown[key] = initials(str(value)) if value else "–"
        elif key in ("recipient_email", "recipient_phone"):
            shown[key] = "given" if value else "–"
        else:
            shown[key] = value
    return shown
