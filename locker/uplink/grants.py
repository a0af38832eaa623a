"""Central staff: a hub operator signing in at this station's maintenance screen.

Two statements, both signed by the hub with the station's command key (HMAC-SHA256, each
under its own context string, so neither can pass for the other or for a command):

- **The grant** reaches the station as a hub command (``grant_access``), itself signed and
  applied once. It names the grant, the station, the operator, the role (``staff``) and
  when it ends; the station checks its signature, stores it, and audits it. A
  ``revoke_access`` command ends it, and ends that operator's sessions here; a revocation
  that arrives before its grant is kept, so the grant cannot start afterwards.
- **The pass** is what the operator proves who they are with: the hub's screen makes one
  for a signed-in operator holding a live grant. It is short-lived (``PASS_MINUTES``),
  single-use (its nonce is stored here), and its signature covers this station's name and
  the operator's, so it works nowhere else and for no one else. The operator signs in
  with the name ``hub:<operator>`` and the pass as the password.

The station checks both offline: it never asks the hub, so its local accounts and the
grants it already holds keep working when the hub cannot be reached.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, delete, select

from locker.audit import record
from locker.errors import DomainError
from locker.people.identity import Principal
from locker.station import Station
from locker.store.tables import Account, CentralGrant, StaffSession, UsedPass
from locker.types import Role

CENTRAL_PREFIX = "hub:"  # the name a hub operator signs in with here: hub:<operator>
PASS_MINUTES = 10  # how long a pass lasts; the station refuses one made to last longer
GRANT_ROLES = ("staff",)
_GRANT_CONTEXT = b"lps-grant-v1"
_PASS_CONTEXT = b"lps-pass-v1"
_PASS = re.compile(r"lps1\.([0-9a-f]{32})\.([A-Za-z0-9_-]{22})\.([0-9]{10})\.([A-Za-z0-9_-]{43})")


class CentralRefused(DomainError):
    """A hub operator's sign-in (or a grant) this station does not accept; ``code`` says
    why: pass_malformed, pass_forged, pass_expired, pass_replayed, grant_unknown,
    grant_revoked, grant_expired, grant_forged, grant_name_taken."""

    status = 401

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _mac(key: bytes, context: bytes, *parts: str) -> bytes:
    body = b"\x1f".join([context, *(p.encode() for p in parts)])
    return hmac.new(key, body, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


# --- the grant ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantStatement:
    grant_id: str  # 32 hex
    station: str
    operator: str
    role: str
    expires_at: datetime
    sig: str = ""

    def _parts(self) -> tuple[str, ...]:
        return (self.station, self.grant_id, self.operator, self.role, _moment(self.expires_at))

    def signed(self, key: bytes) -> GrantStatement:
        sig = _b64(_mac(key, _GRANT_CONTEXT, *self._parts()))
        return GrantStatement(
            self.grant_id, self.station, self.operator, self.role, self.expires_at, sig
        )

    def verify(self, key: bytes) -> bool:
        return hmac.compare_digest(self.sig, _b64(_mac(key, _GRANT_CONTEXT, *self._parts())))

    def args(self) -> dict[str, str]:
        """The ``grant_access`` command's arguments."""
        return {
            "grant_id": self.grant_id,
            "operator": self.operator,
            "role": self.role,
            "expires_at": _moment(self.expires_at),
            "sig": self.sig,
        }


def new_grant_id() -> str:
    return secrets.token_hex(16)


def receive_grant(station: Station, station_name: str, key: bytes, g: GrantStatement) -> None:
    """Keep a grant the hub signed for this station (a ``grant_access`` command)."""
    now = station.now()
    if g.station != station_name or not g.verify(key):
        raise CentralRefused("grant_forged", "the grant is not the hub's statement for here")
    if g.role not in GRANT_ROLES:
        raise CentralRefused("grant_forged", f"no role {g.role!r} may be granted")
    actor = f"hub:{g.operator}"
    with station.db.write() as session:
        row = session.get(CentralGrant, g.grant_id)
        if row is not None and row.revoked_at is not None:
            raise CentralRefused("grant_revoked", f"grant {g.grant_id} was revoked")
        account = session.exec(select(Account).where(Account.name == actor)).first()
        if account is not None and account.password_hash is not None:
            raise CentralRefused("grant_name_taken", f"a local account is called {actor}")
        if account is None:
            session.add(Account(name=actor, role=Role.STAFF, created_at=now))
        else:
            account.active = True
            session.add(account)
        if row is None:
            row = CentralGrant(id=g.grant_id, received_at=now)
        row.operator, row.role, row.expires_at = g.operator, g.role, g.expires_at
        session.add(row)
        record(
            session,
            actor="hub",
            action="central.granted",
            now=now,
            detail=f"{g.grant_id}: {actor} as {g.role} until {_moment(g.expires_at)}",
        )


def revoke_grant(station: Station, grant_id: str) -> None:
    """End a grant (kept as revoked even if it never arrived) and its operator's sessions."""
    now = station.now()
    with station.db.write() as session:
        row = session.get(CentralGrant, grant_id) or CentralGrant(id=grant_id, received_at=now)
        if row.revoked_at is None:
            row.revoked_at = now
        session.add(row)
        if row.operator:
            _end_sessions(session, f"{CENTRAL_PREFIX}{row.operator}")
        record(
            session,
            actor="hub",
            action="central.revoked",
            now=now,
            detail=f"{grant_id}: {CENTRAL_PREFIX}{row.operator or '?'}",
        )


def _end_sessions(session: Session, name: str) -> None:
    account = session.exec(select(Account).where(Account.name == name)).first()
    if account is not None and account.id is not None:
        session.exec(delete(StaffSession).where(StaffSession.account_id == account.id))  # type: ignore[arg-type]


# --- the pass -----------------------------------------------------------------------------


def make_pass(
    key: bytes,
    station: str,
    operator: str,
    grant_id: str,
    expires_at: datetime,
    nonce: str | None = None,
) -> str:
    """The hub's sign-in pass for ``operator`` at ``station`` (about 90 characters)."""
    nonce = nonce or _b64(secrets.token_bytes(16))
    expires = f"{int(expires_at.timestamp()):010d}"
    sig = _b64(_mac(key, _PASS_CONTEXT, station, operator, grant_id, nonce, expires))
    return f"lps1.{grant_id}.{nonce}.{expires}.{sig}"


def is_central(name: str) -> bool:
    return name.strip().startswith(CENTRAL_PREFIX)


@dataclass(frozen=True)
class CentralSignIn:
    principal: Principal
    grant_ends: datetime  # a session started with it ends no later


def sign_in(station: Station, station_name: str, key: bytes, name: str, text: str) -> CentralSignIn:
    """Check a hub operator's pass and grant here; each outcome is audited."""
    now = station.now()
    operator = name.strip()[len(CENTRAL_PREFIX) :]
    actor = f"{CENTRAL_PREFIX}{operator}"
    try:
        with station.db.write() as session:
            found = _check(session, key, station_name, operator, text.strip(), now)
            account = session.exec(select(Account).where(Account.name == actor)).first()
            if account is None or account.id is None or not account.active:
                raise CentralRefused("grant_unknown", "no grant for this operator here")
            assert found.expires_at is not None
            record(session, actor=actor, action="central.signed_in", now=now, detail=found.id)
            return CentralSignIn(
                Principal(account.id, account.name, account.role), found.expires_at
            )
    except CentralRefused as exc:
        with station.db.write() as session:
            record(session, actor=actor, action="central.refused", now=now, detail=exc.code)
        raise


def _check(
    session: Session, key: bytes, station_name: str, operator: str, text: str, now: datetime
) -> CentralGrant:
    matched = _PASS.fullmatch(text)
    if matched is None or not operator:
        raise CentralRefused("pass_malformed", "that is not a hub sign-in pass")
    grant_id, nonce, expires, sig = matched.groups()
    wanted = _b64(_mac(key, _PASS_CONTEXT, station_name, operator, grant_id, nonce, expires))
    if not hmac.compare_digest(sig, wanted):
        raise CentralRefused("pass_forged", "the pass is not the hub's for this station")
    ends = datetime.fromtimestamp(int(expires), UTC)
    if ends <= now or ends > now + timedelta(minutes=PASS_MINUTES + 1):
        raise CentralRefused("pass_expired", "the pass has expired: ask the hub for a new one")
    grant = session.get(CentralGrant, grant_id)
    if grant is None:
        raise CentralRefused("grant_unknown", "this station holds no such grant")
    if grant.revoked_at is not None:
        raise CentralRefused("grant_revoked", "the grant was revoked")
    if grant.operator != operator:
        raise CentralRefused("grant_unknown", "this station holds no such grant for you")
    if grant.expires_at is None or grant.expires_at <= now:
        raise CentralRefused("grant_expired", "the grant has ended")
    if session.get(UsedPass, nonce) is not None:
        raise CentralRefused("pass_replayed", "this pass was used already")
    session.add(UsedPass(nonce=nonce, grant_id=grant_id, used_at=now))
    return grant
