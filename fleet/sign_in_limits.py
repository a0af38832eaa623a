"""Limits on wrong passwords at the hub's sign-in (the API's and the screen's alike).

Two counts are kept, both by the client's **network** (an IPv4 address, or the /64 of an
IPv6 address: one machine holds a whole /64, so its addresses count as one):

- **a name from one network**: ``FREE_PER_NAME`` wrong passwords, then each further one
  doubles the wait (``BASE_DELAY`` up to ``MAX_DELAY``);
- **one network, whatever the names**: ``FREE_PER_NETWORK`` wrong passwords, then the same
  doubling waits, so one network cannot try a few passwords on every name.

There is deliberately no count of a name across networks: a stranger could then keep an
operator locked out by failing on purpose (as the station's network guessers cannot lock
the shop's kiosk, :mod:`locker.people.attempts`). What a stranger fills is his own
network's counts; the operator, signing in from hers, never waits for him. A guesser
with many networks gets ``FREE_PER_NAME`` tries per name per network, then a few per
hour, against argon2 hashes of passwords of at least ten characters.

Every attempt is counted **before** its password is checked, under row locks taken in one
order (``INSERT … ON CONFLICT DO NOTHING``, then ``SELECT … FOR UPDATE``): a burst of
parallel tries is serialised on the counts, each one is counted, and none answers 500. A
right password then takes its own failure back (and clears the name's run of failures
from that network; the network's count only loses the one, so signing in to one's own
account does not reset the count of guesses at others).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from fleet.errors import TooManyAttempts
from fleet.tables import LoginAttempt

FREE_PER_NAME = 5  # wrong passwords for one name from one network before the waits begin
FREE_PER_NETWORK = 20  # wrong passwords from one network, whatever the names
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)


def network_of(address: str | None) -> str:
    """The network a client's address counts as: the address itself for IPv4, its /64 for
    IPv6 (an IPv4 address mapped into IPv6 is that IPv4 address)."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]  # not an address (a test client's name): itself
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def _scopes(name: str, network: str) -> dict[str, int]:
    """The counts an attempt fills, and how many failures each allows free."""
    return {f"name:{network}:{name}": FREE_PER_NAME, f"net:{network}": FREE_PER_NETWORK}


def delay(failures: int, free: int) -> timedelta:
    """The wait after ``failures`` wrong passwords of a count that allows ``free``."""
    if failures < free:
        return timedelta(0)
    factor: int = 2 ** min(failures - free, 20)
    return min(MAX_DELAY, BASE_DELAY * factor)


def take_attempt(session: Session, name: str, network: str, now: datetime) -> None:
    """Count this attempt as a wrong password in advance, or raise :class:`TooManyAttempts`
    if a wait of either count is still running (then nothing is counted)."""
    scopes = _scopes(name, network)
    keys = sorted(scopes)  # one order of locks for every attempt: no deadlock
    session.execute(
        insert(LoginAttempt)
        .values([{"scope": k, "failures": 0, "last_at": now} for k in keys])
        .on_conflict_do_nothing(index_elements=["scope"])
    )
    rows = session.exec(
        select(LoginAttempt)
        .where(col(LoginAttempt.scope).in_(keys))
        .order_by(col(LoginAttempt.scope))
        .with_for_update()
    ).all()
    ends = [row.last_at + wait for row in rows if (wait := delay(row.failures, scopes[row.scope]))]
    left = max(((end - now).total_seconds() for end in ends), default=0.0)
    if left > 0:
        raise TooManyAttempts(left)
    for row in rows:  # parallel tries took their clocks before the lock: the latest stays
        row.failures += 1
        row.last_at = max(row.last_at, now)
        session.add(row)


def signed_in(session: Session, name: str, network: str) -> None:
    """The password was right: the attempt counted in advance is taken back."""
    name_key, net_key = sorted(_scopes(name, network))
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.scope) == name_key))
    session.execute(
        update(LoginAttempt)
        .where(col(LoginAttempt.scope) == net_key, col(LoginAttempt.failures) > 0)
        .values(failures=LoginAttempt.failures - 1)
    )
