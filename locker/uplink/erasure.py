"""The hub told of an erasure at the station: which parcels (ids, tracking numbers,
carriers), never who, so that it erases the personal fields it may still hold of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from locker.store.tables import Parcel
from locker.uplink.capture import Capture, record_hub_event


def tell_hub_of_erasure(session: Session, parcels: Sequence[Parcel], *, now: datetime) -> None:
    """An ``erased`` event in the uplink's outbox, when the station has a hub."""
    if not isinstance(session.info.get("capture"), Capture) or not parcels:
        return
    record_hub_event(
        session,
        "erased",
        {
            "parcels": [
                {"id": p.id, "tracking_number": p.tracking_number, "carrier": p.carrier}
                for p in parcels
            ]
        },
        now=now,
    )
