"""Several parcels, one compartment (issue 17): when a recipient already has a parcel
waiting and the courier says the new one fits beside it, the station opens that
compartment again instead of a new one.

Only with the courier's word: the station cannot see the space left. The new parcel
records the parcel it lies beside (``beside_parcel_id``, always the compartment's first
one); the database's unique index of active parcels per compartment leaves such rows
out and triggers (migration 0010) refuse any other second parcel. Only the same
carrier's parcels share a compartment (a courier learns nothing of other carriers'
parcels, and one code then opens them all, see :mod:`locker.services.issuing`).

Everything in a shared compartment moves together: the deadlines are kept equal (a
later deposit moves the first one's; an extension or a hold moves all, see
:mod:`locker.services.deadlines`), one door opening collects or takes back all of them
(which parcels lie together: :mod:`locker.services.shared_compartments`), and a code of any
of them finishes them all (the recipient takes out whatever lies behind the door).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from locker.cold.tables import open_cold_groups
from locker.errors import InvalidTransition, NoFreeCompartment
from locker.layout import Layout
from locker.lifecycle import move
from locker.services.intake import ParcelInput, Reservation, new_parcel
from locker.services.shared_compartments import being_deposited, same_recipient
from locker.station import Station, as_compartment_id, busy_doors, get_parcel
from locker.store.tables import Compartment, Parcel
from locker.types import CompartmentId, Condition, ParcelKind, ParcelState


def _as_parcel(data: ParcelInput) -> Parcel:
    """The recipient of a parcel not yet written, for comparing."""
    return Parcel(
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        recipient_name=data.recipient_name,
        recipient_email=data.recipient_email,
        recipient_phone=data.recipient_phone,
        recipient_id=getattr(data, "recipient_id", None),
        kind=data.kind,
        cold=data.cold,
    )


def waiting_beside(
    session: Session, new: Parcel, *, now: datetime, layout: Layout
) -> Parcel | None:
    """The first parcel of a compartment the new parcel could join: the same recipient's
    and carrier's, stored and not due, of the same cold kind (a cold one only while its
    group is in band), in a compartment in service with no door being opened and no other
    deposit under way; the oldest such one."""
    if new.kind is not ParcelKind.DELIVERY:
        return None
    busy = busy_doors(session)
    candidates = session.exec(
        select(Parcel)
        .join(Compartment, col(Compartment.id) == col(Parcel.compartment_id))
        .where(
            Parcel.state == ParcelState.STORED,
            Parcel.kind == ParcelKind.DELIVERY,
            Parcel.carrier == new.carrier,
            col(Parcel.beside_parcel_id).is_(None),
            col(Parcel.deadline) > now,
            Compartment.condition == Condition.OK,
            col(Compartment.retired).is_(False),
        )
        .order_by(col(Parcel.id))
    ).all()
    cold_open = open_cold_groups(session) if new.cold is not None else set()
    for first in candidates:
        assert first.compartment_id is not None
        if first.id == new.id or first.compartment_id in busy or not same_recipient(new, first):
            continue
        if first.cold is not new.cold:  # a cold parcel only beside one of its own kind
            continue
        group = layout.compartment(CompartmentId(first.compartment_id)).cold_group
        if new.cold is not None and group is not None and group not in cold_open:
            continue
        if being_deposited(session, first.compartment_id) is None:
            return first
    return None


def offer(station: Station, data: ParcelInput) -> int | None:
    """The compartment the courier's screen may offer for a new parcel ("fits beside the
    parcel already waiting in compartment N"), or None."""
    with station.db.read() as session:
        first = waiting_beside(session, _as_parcel(data), now=station.now(), layout=station.layout)
        return first.compartment_id if first is not None else None


def reserve_beside(
    station: Station,
    *,
    actor: str,
    parcel: ParcelInput | None = None,
    parcel_id: int | None = None,
) -> Reservation | None:
    """Hold the compartment of the recipient's waiting parcel for a new (or announced)
    one the courier says fits beside it; None when there is none (the caller then holds
    a compartment of its own, :func:`locker.services.deposit.reserve`).

    The door is read first: one standing open (someone is at it) is not handed out.
    """
    with station.db.read() as session:
        if parcel_id is not None:
            probe = get_parcel(session, parcel_id)
            if probe.state is not ParcelState.ANNOUNCED:
                raise InvalidTransition(f"parcel {parcel_id} is {probe.state}, not announced")
        elif parcel is not None:
            probe = _as_parcel(parcel)
        else:
            raise ValueError("reserve_beside needs a parcel or a parcel_id")
        first = waiting_beside(session, probe, now=station.now(), layout=station.layout)
        if first is None:
            return None
        assert first.compartment_id is not None
        assert first.id is not None
        cid, first_id = first.compartment_id, first.id
    reading = station.locks.read([as_compartment_id(cid)]).get(as_compartment_id(cid))
    if reading is not None and not reading.latched:
        return None
    now = station.now()
    with station.db.write() as session:
        if parcel_id is not None:
            row = get_parcel(session, parcel_id)
            if row.state is not ParcelState.ANNOUNCED:
                raise InvalidTransition(f"parcel {parcel_id} is {row.state}, not announced")
        else:
            assert parcel is not None
            row = new_parcel(
                session, parcel, actor=actor, now=now, currency=station.policy.currency
            )
        again = waiting_beside(session, row, now=now, layout=station.layout)
        if again is None or again.id != first_id:
            raise NoFreeCompartment(
                f"compartment {cid} changed meanwhile: ask for a compartment of its own"
            )
        row.compartment_id = cid
        row.beside_parcel_id = first_id
        row.reserved_until = now + station.policy.reservation_ttl
        move(
            session,
            row,
            ParcelState.RESERVED,
            actor=actor,
            now=now,
            detail=f"beside parcel {first_id} (the courier says it fits)",
        )
        assert row.id is not None
        return Reservation(row.id, cid, row.reserved_until)
