"""The allowed parcel transitions (design page, "Life of a parcel") as one table.

Every change of a parcel's state goes through :func:`move`, which refuses anything not
in the table and writes the one audit row that the transition owes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from locker.audit import record
from locker.errors import InvalidTransition
from locker.notify.outbox import record_event
from locker.store.tables import Parcel
from locker.types import ParcelKind
from locker.types import ParcelState as P

TRANSITIONS: Mapping[tuple[P, P], str] = {
    (P.ANNOUNCED, P.RESERVED): "reserved",
    (P.RESERVED, P.ANNOUNCED): "released",  # reservation expired or its door did not open
    (P.RESERVED, P.STORED): "stored",  # door seen closed after the deposit
    (P.STORED, P.COLLECTED): "collected",
    (P.STORED, P.EXPIRED): "expired",
    (P.EXPIRED, P.STORED): "extended",  # staff gave the recipient more time
    (P.EXPIRED, P.RETURNED): "returned",  # a courier took it back
    (P.STORED, P.RETURNED): "returned",  # a customer's return, taken away by its courier
    (P.ANNOUNCED, P.LAPSED): "lapsed",  # announced, never brought in (announcement_expiry)
}


def to_take_back(parcel: Parcel) -> bool:
    """Expired deliveries, and returns dropped off by customers, wait for their courier."""
    return parcel.state is P.EXPIRED or (
        parcel.state is P.STORED and parcel.kind is ParcelKind.RETURN
    )


def move(
    session: Session, parcel: Parcel, to: P, *, actor: str, now: datetime, detail: str = ""
) -> None:
    """Change ``parcel`` to state ``to`` and audit it, or raise :class:`InvalidTransition`."""
    action = TRANSITIONS.get((parcel.state, to))
    if (parcel.state, to) == (P.STORED, P.RETURNED) and parcel.kind is not ParcelKind.RETURN:
        action = None  # a stored delivery is collected or expires; only a return goes back
    if action is None:
        raise InvalidTransition(f"parcel {parcel.id} is {parcel.state}, it cannot become {to}")
    parcel.state = to
    session.add(parcel)
    record(
        session,
        actor=actor,
        action=f"parcel.{action}",
        now=now,
        compartment_id=parcel.compartment_id,
        parcel_id=parcel.id,
        detail=detail,
    )
    record_event(session, f"parcel.{action}", now=now, parcel=parcel, detail={"by": actor})
