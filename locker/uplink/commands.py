"""Commands from the fleet hub, applied once each, with a clear answer.

The station stays the master of its doors: no command type opens one (there is none in
:mod:`locker.uplink.messages`), and every command goes through the same services and
checks as the maintenance screen's actions. A command must carry the hub's signature
under the station's command key and name this station. Its result is stored with its id:
a command delivered again (QoS 1 may, and a hub may resend) gets the first answer again
and changes nothing. A command that names a compartment or parcel the station does not
have, or asks what the parcel's state forbids, is refused with the domain's own code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import col, select

from locker.audit import record
from locker.errors import DomainError, NotFound
from locker.people import accounts
from locker.services import deadlines, deposit, staff
from locker.services.intake import ParcelInput
from locker.station import Station
from locker.store.tables import HubCommand, Parcel
from locker.types import ParcelState
from locker.uplink import grants
from locker.uplink.command_args import (
    AnnounceArgs,
    BackInServiceArgs,
    CommandArgs,
    ExtendArgs,
    GrantArgs,
    NoArgs,
    OutOfServiceArgs,
    ResendArgs,
    RevokeArgs,
    RevokeGrantArgs,
)
from locker.uplink.messages import Command, CommandResult, Problem

LIVE = (ParcelState.ANNOUNCED, ParcelState.RESERVED, ParcelState.STORED, ParcelState.EXPIRED)
Effect = Callable[[Station, str, Any], dict[str, Any]]


def _announce(station: Station, actor: str, a: AnnounceArgs) -> dict[str, Any]:
    """A parcel announced; the same carrier's tracking number still live is that parcel
    (a command replayed after a crash between its effect and its stored answer)."""
    with station.db.read() as session:
        live = session.exec(
            select(Parcel.id).where(
                Parcel.carrier == a.carrier,
                Parcel.tracking_number == a.tracking_number,
                col(Parcel.state).in_(LIVE),
            )
        ).first()
    if live is not None:
        return {"parcel_id": live, "already": True}
    parcel = ParcelInput(
        carrier=a.carrier,
        tracking_number=a.tracking_number,
        recipient_name=a.recipient_name,
        recipient_email=a.recipient_email,
        recipient_phone=a.recipient_phone,
        recipient_language=a.recipient_language,
        size=a.size,
        needs_accessible=a.accessible,
        cold=a.cold,
        amount_due_cents=a.amount_due or 0,
    )
    return {"parcel_id": deposit.announce(station, actor=actor, parcel=parcel)}


def _extend(station: Station, actor: str, a: ExtendArgs) -> dict[str, Any]:
    parcel_id = a.parcel_id
    if parcel_id is None:  # by tracking number: the live parcel that has it
        with station.db.read() as session:
            parcel_id = session.exec(
                select(Parcel.id).where(
                    Parcel.tracking_number == a.tracking_number, col(Parcel.state).in_(LIVE)
                )
            ).first()
        if parcel_id is None:
            raise NotFound("parcel", a.tracking_number)
    deadlines.extend_deadline(station, actor=actor, parcel_id=parcel_id, until=a.until)
    return {"parcel_id": parcel_id, "until": a.until.isoformat()}


def _out(station: Station, actor: str, a: OutOfServiceArgs) -> dict[str, Any]:
    staff.set_out_of_service(station, actor=actor, compartment_id=a.compartment_id, reason=a.reason)
    return {"compartment_id": a.compartment_id}


def _back(station: Station, actor: str, a: BackInServiceArgs) -> dict[str, Any]:
    staff.clear_fault(station, actor=actor, compartment_id=a.compartment_id, note=a.note)
    return {"compartment_id": a.compartment_id}


def _revoke(station: Station, actor: str, a: RevokeArgs) -> dict[str, Any]:
    accounts.revoke_courier(station, name=a.name, actor=actor)
    return {"name": a.name}


def _grant(station: Station, station_name: str, key: bytes, a: GrantArgs) -> dict[str, Any]:
    statement = grants.GrantStatement(
        a.grant_id, station_name, a.operator, a.role, a.expires_at, a.sig
    )
    grants.receive_grant(station, station_name, key, statement)
    return {"grant_id": a.grant_id, "operator": a.operator}


def _revoke_grant(station: Station, a: RevokeGrantArgs) -> dict[str, Any]:
    grants.revoke_grant(station, a.grant_id)
    return {"grant_id": a.grant_id}


# What each command does on the station; snapshot and resend are answered by the uplink
# (they send, they change nothing), so here they only need valid arguments.
EFFECTS: dict[str, tuple[type[CommandArgs], Effect | None]] = {
    "announce": (AnnounceArgs, _announce),
    "extend": (ExtendArgs, _extend),
    "out_of_service": (OutOfServiceArgs, _out),
    "back_in_service": (BackInServiceArgs, _back),
    "revoke_courier": (RevokeArgs, _revoke),
    "snapshot": (NoArgs, None),
    "resend": (ResendArgs, None),
    # central staff (locker.uplink.grants): applied in apply(), they need the station's key
    "grant_access": (GrantArgs, None),
    "revoke_access": (RevokeGrantArgs, None),
}


def _result(command: Command, station_name: str, now: datetime, **fields: Any) -> CommandResult:
    return CommandResult(command_id=command.id, station=station_name, at=now, **fields)


def refused(
    command: Command, station_name: str, now: datetime, code: str, detail: str
) -> CommandResult:
    return _result(command, station_name, now, ok=False, problem=Problem(code=code, detail=detail))


CANNOT_APPLY = "cannot_apply"
UNREADABLE = "unreadable_command"


def _cannot(exc: Exception) -> str:
    return f"the station could not apply it ({type(exc).__name__}: {str(exc)[:200]})"


def cannot_apply(
    command: Command, station_name: str, now: datetime, exc: Exception
) -> CommandResult:
    """The answer when applying failed outside :func:`apply` (e.g. storing its answer)."""
    return refused(command, station_name, now, CANNOT_APPLY, _cannot(exc))


def unreadable(payload: bytes, station_name: str, now: datetime, why: str) -> CommandResult | None:
    """The refusal of a message on the ``cmd`` topic that is not a command this station
    knows (a type of a newer hub, a field it lacks), so the hub does not wait for an
    answer; None when it carries no id to answer to. Nothing of it is applied."""
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    command_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(command_id, str) or not 8 <= len(command_id) <= 64:
        return None
    return CommandResult(
        command_id=command_id,
        station=station_name,
        at=now,
        ok=False,
        problem=Problem(code=UNREADABLE, detail=f"this station cannot read it: {why}"[:500]),
    )


def _outcome(answer: CommandResult) -> str:
    return "ok" if answer.ok or answer.problem is None else answer.problem.code


def apply(station: Station, station_name: str, key: bytes, command: Command) -> CommandResult:
    """Apply ``command`` once (see the module's text); its result, to send back."""
    now = station.now()
    if command.station != station_name:
        return refused(command, station_name, now, "wrong_station", f"this is {station_name}")
    if not command.verify(key):
        return refused(command, station_name, now, "bad_signature", "not signed by the hub")
    with station.db.read() as session:
        done = session.get(HubCommand, command.id)
    if done is not None:
        return CommandResult.model_validate_json(done.result)
    kind, effect = EFFECTS[command.type]
    actor = f"hub:{command.by or 'hub'}"
    try:
        args = kind.model_validate(command.args)
        if isinstance(args, GrantArgs):
            effect = lambda st, _actor, a: _grant(st, station_name, key, a)  # noqa: E731
        elif isinstance(args, RevokeGrantArgs):
            effect = lambda st, _actor, a: _revoke_grant(st, a)  # noqa: E731
        answer = (
            _result(command, station_name, now, ok=True, result=effect(station, actor, args))
            if effect is not None
            else _result(command, station_name, now, ok=True)
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "args"
        answer = refused(command, station_name, now, "invalid_request", f"{where}: {first['msg']}")
    except DomainError as exc:
        answer = refused(command, station_name, now, exc.code, exc.message)
    except Exception as exc:  # the hub must hear of it, never wait on it
        # Valid by the contract, yet not for this station (e.g. a number its database
        # cannot hold): refused, and kept like any answer, so a replay gets it again.
        answer = refused(command, station_name, now, CANNOT_APPLY, _cannot(exc))
    if command.type in ("snapshot", "resend"):
        return answer  # asked again, answered again: they change nothing
    # Stored after the effect, in a transaction of its own (the services keep their own):
    # a crash between the two applies it again on the replay, which every effect bears
    # (announce finds its parcel, the others set what is already set or refuse plainly).
    with station.db.write() as session:
        if session.get(HubCommand, command.id) is None:
            session.add(
                HubCommand(
                    id=command.id,
                    type=command.type,
                    received_at=now,
                    result=answer.model_dump_json(),
                )
            )
            record(
                session,
                actor=actor,
                action=f"hub.{command.type}",
                now=now,
                detail=f"{command.id}: {_outcome(answer)}",
            )
    return answer
