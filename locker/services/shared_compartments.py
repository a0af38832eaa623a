"""Parcels that share a compartment (issue 17): which ones lie together, and the rule that
nobody else opens a compartment while a courier is depositing into it.

The first parcel of a compartment is its group's root; the others record it in
``beside_parcel_id``. How a parcel comes to lie beside another is in
:mod:`locker.services.beside`; how their deadlines stay equal, in :mod:`locker.services.deadlines`.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from locker.errors import DoorBusy
from locker.services.issuing import recipient_key
from locker.store.tables import ACTIVE_PARCEL_STATES, Parcel
from locker.types import ParcelState


def same_recipient(a: Parcel, b: Parcel) -> bool:
    """One person: the same directory entry, or the same e-mail address or phone number
    (as the station groups a recipient's parcels under one code)."""
    if a.recipient_id is not None and a.recipient_id == b.recipient_id:
        return True
    key = recipient_key(a)
    return key is not None and key == recipient_key(b)


def group_root(parcel: Parcel) -> int:
    assert parcel.id is not None or parcel.beside_parcel_id is not None
    return parcel.beside_parcel_id if parcel.beside_parcel_id is not None else (parcel.id or 0)


def in_compartment(session: Session, compartment_id: int) -> list[Parcel]:
    """The active parcels of a compartment (one, or a first one and those beside it)."""
    return list(
        session.exec(
            select(Parcel)
            .where(
                Parcel.compartment_id == compartment_id,
                col(Parcel.state).in_(ACTIVE_PARCEL_STATES),
            )
            .order_by(col(Parcel.id))
        ).all()
    )


def mates(session: Session, parcel: Parcel) -> list[Parcel]:
    """The other active parcels sharing ``parcel``'s compartment."""
    if parcel.compartment_id is None:
        return []
    return [p for p in in_compartment(session, parcel.compartment_id) if p.id != parcel.id]


def being_deposited(session: Session, compartment_id: int) -> Parcel | None:
    """A parcel a courier is putting beside the others right now (reserved there)."""
    for parcel in in_compartment(session, compartment_id):
        if parcel.state is ParcelState.RESERVED:
            return parcel
    return None


def refuse_while_depositing(session: Session, compartment_id: int) -> None:
    """A compartment is not opened for its recipient or a take-back while a courier adds
    a parcel to it."""
    if being_deposited(session, compartment_id) is not None:
        raise DoorBusy(
            f"a courier is putting a parcel into compartment {compartment_id} right now: "
            "try again in a minute"
        )
