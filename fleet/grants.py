"""Central staff on the hub: an admin grants an operator the right to sign in at chosen
stations' maintenance screens; the grant travels as a signed ``grant_access`` command and
the station checks it offline (:mod:`locker.uplink.grants`). An operator with a live grant
the station has acknowledged gets a one-time sign-in pass for it here. Everything is
written to the hub's audit log with the operator's name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from fleet import commands
from fleet.errors import FleetError, NotFound
from fleet.registry import command_key
from fleet.tables import CommandRow, HubAudit, Operator, Station, StationGrant
from locker.uplink import grants as statements
from locker.uplink.command_args import CommandArgs
from locker.uplink.messages import Command

MAX_DAYS = 90  # a grant lasts at most this long; give a new one after


class GrantRefused(FleetError):
    code = "grant_refused"
    status = 422


class NoGrant(FleetError):
    code = "no_grant"
    status = 403


class _GrantAccess(CommandArgs):  # its expiry as the signed text, not a datetime
    grant_id: str
    operator: str
    role: str
    expires_at: str
    sig: str


class _RevokeAccess(CommandArgs):
    grant_id: str


def audit(
    session: Session, now: datetime, actor: str, action: str, station: str | None, detail: str
) -> None:
    session.add(HubAudit(at=now, actor=actor, action=action, station=station, detail=detail))


def give(
    session: Session, *, operator: str, station: str, until: datetime, by: str, now: datetime
) -> Command:
    """Record a grant and return its signed command (publish it after the commit)."""
    if session.get(Operator, operator) is None:
        raise NotFound("account", operator)
    if session.get(Station, station) is None:
        raise NotFound("station", station)
    if not now < until <= now + timedelta(days=MAX_DAYS):
        raise GrantRefused(f"a grant ends after now and within {MAX_DAYS} days")
    until = until.replace(microsecond=0)
    statement = statements.GrantStatement(
        statements.new_grant_id(), station, operator, "staff", until
    ).signed(command_key(session, station))
    args = _GrantAccess.model_validate(statement.args())
    command = commands.issue(session, station, "grant_access", args, by=by, now=now)
    session.add(
        StationGrant(
            id=statement.grant_id,
            operator=operator,
            station=station,
            granted_by=by,
            granted_at=now,
            expires_at=until,
            command_id=command.id,
        )
    )
    audit(
        session,
        now,
        by,
        "grant.given",
        station,
        f"{statement.grant_id}: {operator} until {until:%Y-%m-%d %H:%M}",
    )
    return command


def revoke(session: Session, grant_id: str, *, by: str, now: datetime) -> Command:
    grant = session.get(StationGrant, grant_id, with_for_update=True)
    if grant is None:
        raise NotFound("grant", grant_id)
    if grant.revoked_at is not None:
        raise GrantRefused(f"grant {grant_id} is revoked already")
    command = commands.issue(
        session, grant.station, "revoke_access", _RevokeAccess(grant_id=grant_id), by=by, now=now
    )
    grant.revoked_at, grant.revoked_by, grant.revoke_command_id = now, by, command.id
    session.add(grant)
    audit(session, now, by, "grant.revoked", grant.station, f"{grant_id}: {grant.operator}")
    return command


@dataclass(frozen=True)
class GrantShown:
    grant: StationGrant
    state: str  # the grant command's: sent, ok, refused
    revoke_state: str | None

    def live(self, now: datetime) -> bool:
        return self.grant.revoked_at is None and self.grant.expires_at > now


def listed(
    session: Session, *, operator: str | None = None, station: str | None = None
) -> list[GrantShown]:
    query = select(StationGrant).order_by(col(StationGrant.granted_at).desc())
    if operator is not None:
        query = query.where(StationGrant.operator == operator)
    if station is not None:
        query = query.where(StationGrant.station == station)
    rows = session.exec(query.limit(200)).all()
    ids = {r.command_id for r in rows} | {r.revoke_command_id for r in rows if r.revoke_command_id}
    states = dict(
        session.exec(
            select(CommandRow.id, CommandRow.state).where(col(CommandRow.id).in_(ids))
        ).all()
    )
    return [
        GrantShown(r, states.get(r.command_id, "sent"), states.get(r.revoke_command_id or ""))
        for r in rows
    ]


@dataclass(frozen=True)
class StationPass:
    text: str
    expires_at: datetime
    grant_id: str


def station_pass(session: Session, *, operator: str, station: str, now: datetime) -> StationPass:
    """A one-time pass for ``operator`` at ``station``, from a live grant the station has
    acknowledged (audited; the hub keeps no copy of the pass)."""
    candidates = [
        g
        for g in listed(session, operator=operator, station=station)
        if g.live(now) and g.state == "ok"
    ]
    if not candidates:
        raise NoGrant(f"{operator} holds no grant {station} has acknowledged")
    grant = candidates[0].grant
    ends = min(grant.expires_at, now + timedelta(minutes=statements.PASS_MINUTES))
    text = statements.make_pass(command_key(session, station), station, operator, grant.id, ends)
    audit(session, now, operator, "pass.issued", station, f"{grant.id}: until {ends:%H:%M:%S}")
    return StationPass(text, ends, grant.id)
