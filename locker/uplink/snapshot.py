"""The station's whole state for the hub (no codes, no personal data), as of an event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from locker.alerts import open_alerts
from locker.payments.ledger import paid_at
from locker.station import Station, occupancy_by_compartment
from locker.store.tables import Compartment, OutboxEvent, Parcel
from locker.types import CompartmentState, Occupancy, ParcelState
from locker.uplink.capture import capacity, parcel_facts
from locker.uplink.messages import AlertFacts, CompartmentFacts, ParcelFacts, Snapshot

LIVE = (ParcelState.ANNOUNCED, ParcelState.RESERVED, ParcelState.STORED, ParcelState.EXPIRED)


def snapshot(
    station: Station, name: str, *, bus: Mapping[str, Mapping[str, Any]] | None = None
) -> Snapshot:
    """One read transaction: what every compartment is, the live parcels, open alerts."""
    with station.db.read() as session:
        last = session.exec(select(sa.func.max(OutboxEvent.hub_seq))).one() or 0
        held = occupancy_by_compartment(session)
        rows = {row.id: row for row in session.exec(select(Compartment)).all()}
        compartments = [
            CompartmentFacts(
                id=spec.id,
                size=spec.size.value,
                state=CompartmentState.of(
                    held[spec.id][0] if spec.id in held else Occupancy.FREE,
                    rows[spec.id].condition,
                ).value,
            )
            for spec in station.layout.compartments
            if spec.id in rows
        ]
        parcels = [
            ParcelFacts.model_validate({**parcel_facts(p), "paid_at": paid_at(session, p)})
            for p in session.exec(
                select(Parcel).where(col(Parcel.state).in_(LIVE)).order_by(col(Parcel.id))
            ).all()
        ]
        alerts = [
            AlertFacts(
                kind=a.kind.value,
                compartment_id=a.compartment_id,
                detail=a.detail,
                raised_at=a.raised_at,
            )
            for a in open_alerts(session)
        ]
        free = capacity(session, station.layout)["free"]
    return Snapshot(
        station=name,
        at=station.now(),
        last_seq=int(last),
        compartments=compartments,
        parcels=parcels,
        alerts=alerts,
        capacity=free,
        bus={k: dict(v) for k, v in (bus or {}).items()},
    )
