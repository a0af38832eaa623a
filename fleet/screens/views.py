"""What the operators' screen shows, read from the hub's views in one transaction each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet.tables import (
    AlertView,
    CommandRow,
    CompartmentView,
    EventRow,
    ParcelView,
    StationState,
)

SIZES = ("S", "M", "L", "XL")
BUS_ERRORS = ("timeouts", "checksum_errors", "bad_frames", "port_errors")
SORTS = ("name", "alerts", "waiting", "free", "seen")
SHOWS = ("all", "attention", "offline", "alerts")


@dataclass(frozen=True)
class StationRow:
    name: str
    online: bool
    last_seen: datetime | None
    free: dict[str, int]
    waiting: int
    expiring_today: int
    alerts: int
    bus_errors: int | None  # None: no bus health reported yet
    behind: int
    unpaid: int = 0  # live parcels with an amount due, not paid (issue 28)
    unpaid_cents: int = 0
    paid_today_cents: int = 0  # the day's payments (UTC day), all ways together
    offline_since: datetime | None = None  # when the hub heard it drop
    faults: int = 0  # compartments at fault

    @property
    def free_total(self) -> int:
        return sum(self.free.values())

    @property
    def full(self) -> bool:
        return bool(self.free) and self.free_total == 0

    @property
    def needs_attention(self) -> bool:
        """Offline, an open alert, a faulty compartment, or full (as the list's filter)."""
        return not self.online or self.alerts > 0 or self.faults > 0 or self.full


def _end_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def _bus_errors(bus: dict[str, Any]) -> int | None:
    if not bus:
        return None
    return sum(
        int(counters.get(k, 0))
        for counters in bus.values()
        if isinstance(counters, dict)
        for k in BUS_ERRORS
    )


def paid_totals(
    session: Session, now: datetime, names: list[str] | None = None
) -> dict[str, dict[str, int]]:
    """The day's payments per station and way (from the stations' "paid" events)."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    query = select(EventRow.station, EventRow.data).where(
        EventRow.type == "paid", col(EventRow.at) >= start, col(EventRow.at) < _end_of_day(now)
    )
    if names is not None:
        query = query.where(col(EventRow.station).in_(names))
    totals: dict[str, dict[str, int]] = {}
    for station, data in session.exec(query).all():
        way = str(data.get("method", "?"))
        per = totals.setdefault(station, {})
        per[way] = per.get(way, 0) + int(data.get("amount_cents") or 0)
    return totals


def station_rows(
    session: Session,
    now: datetime,
    *,
    text: str = "",
    show: str = "all",
    sort: str = "name",
    names: list[str] | None = None,
) -> list[StationRow]:
    """The stations' rows (``names``: those only), each with its counts."""

    def only(query: Any, column: Any) -> Any:
        return query if names is None else query.where(col(column).in_(names))

    states = session.exec(only(select(StationState), StationState.station)).all()
    waiting = dict(
        session.exec(
            only(
                select(ParcelView.station, func.count()).where(ParcelView.state == "stored"),
                ParcelView.station,
            ).group_by(col(ParcelView.station))
        ).all()
    )
    expiring = dict(
        session.exec(
            only(
                select(ParcelView.station, func.count()).where(
                    ParcelView.state == "stored",
                    col(ParcelView.deadline) < _end_of_day(now),
                ),
                ParcelView.station,
            ).group_by(col(ParcelView.station))
        ).all()
    )
    alerts = dict(
        session.exec(
            only(select(AlertView.station, func.count()), AlertView.station).group_by(
                col(AlertView.station)
            )
        ).all()
    )
    faults = dict(
        session.exec(
            only(
                select(CompartmentView.station, func.count()).where(
                    CompartmentView.state == "fault"
                ),
                CompartmentView.station,
            ).group_by(col(CompartmentView.station))
        ).all()
    )
    unpaid = {
        station: (int(n), int(cents or 0))
        for station, n, cents in session.exec(
            only(
                select(ParcelView.station, func.count(), func.sum(ParcelView.amount_due)).where(
                    col(ParcelView.amount_due) > 0, col(ParcelView.paid_at).is_(None)
                ),
                ParcelView.station,
            ).group_by(col(ParcelView.station))
        ).all()
    }
    paid_today = paid_totals(session, now, names)
    rows = [
        StationRow(
            name=s.station,
            online=s.online,
            last_seen=s.last_seen,
            free={size: int(s.free.get(size, 0)) for size in SIZES if size in s.free},
            waiting=waiting.get(s.station, 0),
            expiring_today=expiring.get(s.station, 0),
            alerts=alerts.get(s.station, 0),
            bus_errors=_bus_errors(s.bus),
            behind=max(0, s.station_last_seq - s.contiguous_seq),
            unpaid=unpaid.get(s.station, (0, 0))[0],
            unpaid_cents=unpaid.get(s.station, (0, 0))[1],
            paid_today_cents=sum(paid_today.get(s.station, {}).values()),
            offline_since=s.offline_since,
            faults=faults.get(s.station, 0),
        )
        for s in states
    ]
    needle = text.strip().lower()
    rows = [
        r
        for r in rows
        if needle in r.name
        and (show != "offline" or not r.online)
        and (show != "alerts" or r.alerts > 0)
        and (show != "attention" or r.needs_attention)
    ]
    keys = {
        "name": lambda r: (r.name,),
        "alerts": lambda r: (-r.alerts, r.name),
        "waiting": lambda r: (-r.waiting, r.name),
        "free": lambda r: (-r.free_total, r.name),
        "seen": lambda r: (r.last_seen is None, -(r.last_seen.timestamp() if r.last_seen else 0)),
    }
    return sorted(rows, key=keys.get(sort, keys["name"]))


@dataclass
class StationPage:
    row: StationRow
    layout: dict[str, Any] | None
    compartments: dict[int, CompartmentView]
    parcels: list[ParcelView]
    alerts: list[AlertView]
    events: list[EventRow]
    commands: list[CommandRow] = field(default_factory=list)
    states: dict[int, str] = field(default_factory=dict)  # what each compartment shows


def station_page(session: Session, name: str, now: datetime, recent: int) -> StationPage | None:
    state = session.get(StationState, name)
    if state is None:
        return None
    [row] = station_rows(session, now, names=[name])
    compartments = {
        c.compartment_id: c
        for c in session.exec(select(CompartmentView).where(CompartmentView.station == name))
    }
    parcels = list(
        session.exec(
            select(ParcelView)
            .where(ParcelView.station == name)
            .order_by(col(ParcelView.deadline), col(ParcelView.parcel_id))
        ).all()
    )
    alerts = list(
        session.exec(
            select(AlertView).where(AlertView.station == name).order_by(col(AlertView.raised_at))
        ).all()
    )
    events = list(
        session.exec(
            select(EventRow)
            .where(EventRow.station == name)
            .order_by(col(EventRow.seq).desc())
            .limit(recent)
        ).all()
    )
    commands = list(
        session.exec(
            select(CommandRow)
            .where(CommandRow.station == name, CommandRow.type != "resend")
            .order_by(col(CommandRow.issued_at).desc())
            .limit(20)
        ).all()
    )
    return StationPage(
        row,
        state.layout,
        compartments,
        parcels,
        alerts,
        events,
        commands,
        shown_states(compartments, parcels),
    )


def shown_states(
    compartments: dict[int, CompartmentView], parcels: list[ParcelView]
) -> dict[int, str]:
    """As the station shows it: a condition (out of service, fault) wins over what the
    compartment holds, which follows from the live parcels pointing at it."""
    held = {
        p.compartment_id: "reserved" if p.state == "reserved" else "occupied"
        for p in parcels
        if p.compartment_id is not None and p.state in ("reserved", "stored", "expired")
    }
    return {
        cid: c.state if c.state in ("out_of_service", "fault") else held.get(cid, "free")
        for cid, c in compartments.items()
    }


def event_text(event: EventRow) -> str:
    """A line for an event: its type and the facts a person reads first."""
    d = event.data
    if event.type == "parcel":
        return f"parcel {d.get('id')} ({d.get('tracking_number')}): {d.get('state')}"
    if event.type == "door":
        return f"door {d.get('compartment_id')} ({d.get('purpose')}): {d.get('outcome')}"
    if event.type == "compartment":
        return f"compartment {d.get('compartment_id')}: {d.get('state') or d.get('condition')}"
    if event.type.startswith("alert."):
        where = d.get("compartment_id")
        return f"{event.type} {d.get('kind')}" + (f" (compartment {where})" if where else "")
    if event.type == "capacity":
        free = d.get("free", {})
        return "free: " + ", ".join(f"{k} {v}" for k, v in free.items())
    return event.type


PANEL_COMMANDS = ("out_of_service", "back_in_service")  # what a compartment's panel gives


def pending_for(page: StationPage, cid: int) -> bool:
    """Whether a command given to this compartment waits for the station's answer."""
    return any(
        c.state == "sent" and c.type in PANEL_COMMANDS and c.args.get("compartment_id") == cid
        for c in page.commands
    )


def waiting_command(session: Session, station: str, cid: int) -> CommandRow | None:
    """The compartment's command that waits for the station's answer, locked: a second
    press (or a second tab) does not send another: the check and the new command are one
    at a time per compartment (a transaction-scoped advisory lock)."""
    session.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"panel:{station}:{cid}"}
    )
    return session.exec(
        select(CommandRow)
        .where(
            CommandRow.station == station,
            CommandRow.state == "sent",
            col(CommandRow.type).in_(PANEL_COMMANDS),
            col(CommandRow.args)["compartment_id"].as_integer() == cid,
        )
        .limit(1)
    ).first()
