"""What an event does to the hub's view of a station: its compartments and their conditions,
its parcels, its alerts. Applied by :class:`fleet.ingest.Ingest` in the transaction that
stores the event. An ``erased`` event (a person's data erased at the station) erases what
the hub holds of those parcels: :func:`erase_parcels`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import delete
from sqlmodel import Session, col, select

from fleet import carrier_stream, commands
from fleet.tables import (
    AlertView,
    CommandRow,
    CompartmentView,
    EventRow,
    ParcelView,
    StationState,
)
from locker.uplink.messages import (
    ParcelFacts,
)

LIVE_PARCEL_STATES = frozenset({"announced", "reserved", "stored", "expired"})


class _CompartmentData(BaseModel):
    compartment_id: int
    size: str
    state: str


class _ConditionData(BaseModel):
    """What a station's capture sends for a compartment: its condition only (whether it
    may be used); what it holds follows from the parcels (the operators' screen joins them)."""

    compartment_id: int
    condition: str


def _project_condition(session: Session, state: StationState, c: _ConditionData) -> None:
    """A compartment's condition as its view's state: ``out_of_service`` or ``fault``; back
    in service, ``free`` (what it holds follows from the live parcels; a snapshot's state
    stands while it stays in service); its size from the view or the reported layout."""
    row = session.get(CompartmentView, (state.station, c.compartment_id))
    size = row.size if row is not None else ""
    if not size:
        reported = (state.layout or {}).get("compartments") or []
        size = next(
            (str(x.get("size", "")) for x in reported if x.get("id") == c.compartment_id), "?"
        )
    if c.condition in ("out_of_service", "fault"):
        shown = c.condition
    elif row is not None and row.state in ("free", "reserved", "occupied"):
        shown = row.state  # in service still: what a snapshot said it holds stands
    else:
        shown = "free"
    session.merge(
        CompartmentView(
            station=state.station, compartment_id=c.compartment_id, size=size, state=shown
        )
    )


class _AlertCleared(BaseModel):
    kind: str
    compartment_id: int | None = None
    cold_group: str | None = None  # a cold group's alert, of no compartment

    @property
    def shown_kind(self) -> str:
        """A cold group's alert is kept as ``<kind>:<group>``: two groups' alerts of one
        kind are two alerts (both of no compartment)."""
        return f"{self.kind}:{self.cold_group}" if self.cold_group else self.kind


class _AlertRaised(_AlertCleared):
    detail: str = ""


class Capacity(BaseModel):
    free: dict[str, int]
    accessible_free: dict[str, int] = {}
    cold_free: dict[str, dict[str, int]] = {}


class Bus(BaseModel):
    health: dict[str, dict[str, Any]]


def parcel_row(station: str, p: ParcelFacts) -> ParcelView:
    return ParcelView(
        station=station,
        parcel_id=p.id,
        tracking_number=p.tracking_number,
        carrier=p.carrier,
        state=p.state,
        size=p.size,
        compartment_id=p.compartment_id,
        deadline=p.deadline,
        accessible=p.accessible,
        amount_due=p.amount_due,
        paid_at=p.paid_at,
    )


def project_event(session: Session, state: StationState, row: EventRow) -> None:
    name, data = row.station, row.data
    if row.type == "parcel":
        parcel = ParcelFacts.model_validate(data)
        carrier_stream.parcel_changed(
            session, row, parcel, carrier_stream.before_state(session, name, parcel.id)
        )
        if parcel.state in LIVE_PARCEL_STATES:
            known = session.get(ParcelView, (name, parcel.id))
            view = parcel_row(name, parcel)
            view.paid_at = known.paid_at if known is not None else parcel.paid_at
            session.merge(view)
        else:  # collected, returned: no longer at the station
            session.execute(
                delete(ParcelView).where(
                    col(ParcelView.station) == name, col(ParcelView.parcel_id) == parcel.id
                )
            )
    elif row.type == "compartment" and "condition" in data:
        _project_condition(session, state, _ConditionData.model_validate(data))
    elif row.type == "compartment":
        c = _CompartmentData.model_validate(data)
        session.merge(
            CompartmentView(
                station=name, compartment_id=c.compartment_id, size=c.size, state=c.state
            )
        )
    elif row.type == "alert.raised":
        raised = _AlertRaised.model_validate(data)
        existing = session.exec(_alert(name, raised.shown_kind, raised.compartment_id)).first()
        if existing is None:
            session.add(
                AlertView(
                    station=name,
                    kind=raised.shown_kind,
                    compartment_id=raised.compartment_id,
                    detail=raised.detail,
                    raised_at=row.at,
                )
            )
        else:
            existing.detail = raised.detail
    elif row.type == "alert.cleared":
        cleared = _AlertCleared.model_validate(data)
        for alert in session.exec(_alert(name, cleared.shown_kind, cleared.compartment_id)).all():
            session.delete(alert)
    elif row.type == "capacity":
        capacity = Capacity.model_validate(data)
        state.free = capacity.free
        state.accessible_free = capacity.accessible_free
        state.cold_free = capacity.cold_free
    elif row.type == "bus":
        state.bus = Bus.model_validate(data).health
    elif row.type == "reminder":
        carrier_stream.reminded(session, row)
    elif row.type == "erased":
        erase_parcels(session, name, _Erased.model_validate(data))
    elif row.type == "paid":
        paid = carrier_stream.paid(session, row)
        paid_view = session.get(ParcelView, (name, paid.id))
        if paid_view is not None:
            paid_view.paid_at = paid.paid_at or row.at
    session.flush()


def _alert(station: str, kind: str, compartment_id: int | None) -> Any:
    return select(AlertView).where(
        AlertView.station == station,
        AlertView.kind == kind,
        col(AlertView.compartment_id).is_not_distinct_from(compartment_id),
    )


class _ErasedParcel(BaseModel):
    id: int
    tracking_number: str
    carrier: str


class _Erased(BaseModel):
    parcels: list[_ErasedParcel]


# Free text of the hub that might quote what an announcement carried (table, column): the
# values are replaced where the station is this one.
_TEXT_COLUMNS = (
    ("commands", "problem_detail"),
    ("alerts", "detail"),
    ("hub_audit", "detail"),
    ("carrier_webhooks", "last_error"),
)


def erase_parcels(session: Session, station: str, erased: _Erased) -> None:
    """The station erased a person: blank the personal fields of the announcements of
    those parcels (answered or not), drop the parcels' views, and replace the values they
    held wherever the hub's free text of this station quotes them."""
    values: set[str] = set()
    for parcel in erased.parcels:
        announced = session.exec(
            select(CommandRow).where(
                CommandRow.station == station,
                CommandRow.type == "announce",
                col(CommandRow.args)["tracking_number"].astext == parcel.tracking_number,
                col(CommandRow.args)["carrier"].astext == parcel.carrier,
            )
        ).all()
        for command in announced:
            values |= commands.personal_values(command.args)
            command.args = commands.after_answer(command.type, command.args)
        session.execute(
            delete(ParcelView).where(
                col(ParcelView.station) == station, col(ParcelView.parcel_id) == parcel.id
            )
        )
    connection = session.connection()
    for value in (v for v in values if len(v) >= 3):
        for table, column in _TEXT_COLUMNS:
            # the names are the constants above; the values are bound parameters
            connection.execute(
                sa.text(
                    f"UPDATE {table} SET {column} = replace({column}, :v, '')"  # noqa: S608
                    f" WHERE station = :s AND strpos({column}, :v) > 0"
                ),
                {"v": value, "s": station},
            )
        connection.execute(
            sa.text(
                "UPDATE commands SET result = replace(result::text, :v, '')::jsonb"
                " WHERE station = :s AND strpos(result::text, :v) > 0"
            ),
            {"v": value, "s": station},
        )
