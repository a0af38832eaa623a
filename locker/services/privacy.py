"""Personal data (issue 17): what the station holds about one person, its export, its
erasure, and the retention that erases it by itself.

Where a person's data lies: the directory entry (``recipient``); on each parcel its
name, e-mail address, phone number, language and accessibility need; the addresses the
notifier wrote to (``delivery.recipient`` and its ``dedup_key``, an error text may quote
one); and any free text that might quote them (audit details, outbox event details,
alerts, door reasons, hub command results). Codes are only keyed hashes; sealed codes
are erased once sent.

Payments (issue 28) hold no personal data and no card data (amount, currency, the
provider's ids, the terminal's receipt number, outcome, times); staff's free text on
them is scrubbed with the rest, and the rows go after the books' retention
(:mod:`locker.payments.retention`).

Erasing replaces the name by a pseudonym (``person-<random>``), blanks address, phone
and the accessibility flag, unlinks the directory entry and removes it, and rewrites the
copies above; the audit log keeps every row (a ``person.erased`` row names the
pseudonym only). SQLite's ``secure_delete`` (set on every connection, see
:mod:`locker.store.db`) overwrites the freed bytes, and a WAL checkpoint afterwards leaves no
older copy of the pages in the write-ahead log. With a hub, an ``erased`` event names the
parcels (ids, tracking numbers, carriers; never the person), and the hub erases what it holds
of them (fleet/projection.py).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from locker.audit import record
from locker.errors import DomainError, NotFound
from locker.payments.retention import payments_of_parcels
from locker.services.issuing import recipient_key
from locker.station import Station
from locker.store.db import Database
from locker.store.tables import AuditEntry, Delivery, OutboxEvent, Parcel, Recipient
from locker.types import ParcelState
from locker.uplink.erasure import tell_hub_of_erasure

FINISHED = (ParcelState.COLLECTED, ParcelState.RETURNED)
# Free-text columns that could quote what a person typed or was sent (table, key, column).
TEXT_COLUMNS = (
    ("audit", "id", "detail"),
    ("outbox_event", "id", "detail"),
    ("delivery", "id", "last_error"),
    ("alert", "id", "detail"),
    ("door_op", "id", "reason"),
    ("hub_command", "id", "result"),
    ("payment", "id", "reason"),  # staff's words on a payment (issue 28)
    ("payment", "id", "outcome_text"),
)


class PersonHasParcelsWaiting(DomainError):
    code = "person_has_parcels_waiting"
    status = 409


class PersonUnknown(DomainError):
    code = "person_not_found"
    status = 404


@dataclass(frozen=True)
class Person:
    """Whom a request is about: a directory entry, and/or an e-mail address or phone."""

    recipient_id: int | None = None
    email: str | None = None
    phone: str | None = None

    def keys(self) -> set[str]:
        probe = Parcel(
            carrier="",
            tracking_number="",
            recipient_name="",
            recipient_email=self.email,
            recipient_phone=None,
        )
        found = set()
        if self.email and (key := recipient_key(probe)):
            found.add(key)
        if self.phone:
            probe.recipient_email, probe.recipient_phone = None, self.phone
            if key := recipient_key(probe):
                found.add(key)
        return found


def _parcel_keys(parcel: Parcel) -> set[str]:
    keys = set()
    if key := recipient_key(parcel):
        keys.add(key)
    if parcel.recipient_email and parcel.recipient_phone:  # the phone is a key of its own
        probe = Parcel(
            carrier="",
            tracking_number="",
            recipient_name="",
            recipient_phone=parcel.recipient_phone,
        )
        if key := recipient_key(probe):
            keys.add(key)
    return keys


def _resolve(session: Session, person: Person) -> tuple[Recipient | None, Person]:
    entry = None
    if person.recipient_id is not None:
        entry = session.get(Recipient, person.recipient_id)
        if entry is None:
            raise NotFound("recipient", person.recipient_id)
        person = Person(
            entry.id, person.email or entry.email or None, person.phone or entry.phone or None
        )
    elif not (person.email or person.phone):
        raise PersonUnknown("name a directory entry, an e-mail address or a phone number")
    return entry, person


def parcels_of(session: Session, person: Person) -> list[Parcel]:
    """Every parcel for the person: linked to the directory entry, or with the same
    e-mail address or phone number (as the station groups a recipient's parcels)."""
    keys = person.keys()
    conditions: list[Any] = [
        col(Parcel.recipient_email).is_not(None),
        col(Parcel.recipient_phone).is_not(None),
    ]
    if person.recipient_id is not None:
        conditions.append(col(Parcel.recipient_id) == person.recipient_id)
    rows = session.exec(select(Parcel).where(or_(*conditions)).order_by(col(Parcel.id))).all()
    return [
        p
        for p in rows
        if (person.recipient_id is not None and p.recipient_id == person.recipient_id)
        or (keys and _parcel_keys(p) & keys)
    ]


def _row(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = obj.model_dump(mode="json")
    return data


def export(station: Station, person: Person, *, actor: str) -> dict[str, Any]:
    """Everything the station holds about the person, as JSON-ready data; audited."""
    with station.db.write() as session:
        entry, person = _resolve(session, person)
        parcels = parcels_of(session, person)
        ids = [p.id for p in parcels]
        audit = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.parcel_id).in_(ids))
            .order_by(col(AuditEntry.id))
        ).all()
        events = session.exec(
            select(OutboxEvent)
            .where(col(OutboxEvent.parcel_id).in_(ids))
            .order_by(col(OutboxEvent.id))
        ).all()
        deliveries = session.exec(
            select(Delivery)
            .where(col(Delivery.event_id).in_([e.id for e in events]))
            .order_by(col(Delivery.id))
        ).all()
        result = {
            "exported_at": station.now().isoformat(),
            "station": station.layout.name,
            "directory_entry": _row(entry) if entry is not None else None,
            "parcels": [_row(p) for p in parcels],
            "audit": [_row(a) for a in audit],
            "payments": [_row(p) for p in payments_of_parcels(session, ids)],
            "messages": [
                {
                    "id": e.id,
                    "at": e.at.isoformat(),
                    "event": e.event,
                    "parcel_id": e.parcel_id,
                    "detail": json.loads(e.detail or "{}"),
                    "deliveries": [
                        {
                            "id": d.id,
                            "channel": d.channel.value,
                            "to": d.recipient,
                            "state": d.state.value,
                            "attempts": d.attempts,
                            "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                        }
                        for d in deliveries
                        if d.event_id == e.id
                    ],
                }
                for e in events
            ],
        }
        record(
            session,
            actor=actor,
            action="person.exported",
            now=station.now(),
            detail=_said(entry, parcels),
        )
    return result


def _said(entry: Recipient | None, parcels: Sequence[Parcel]) -> str:
    who = f"directory entry {entry.id}" if entry is not None else "a person not in the directory"
    return f"{who}; parcels {', '.join(str(p.id) for p in parcels) or 'none'}"


@dataclass(frozen=True)
class Erased:
    pseudonym: str
    recipient_id: int | None
    parcel_ids: tuple[int, ...]


def new_pseudonym() -> str:
    return "person-" + secrets.token_hex(5)


def erase(station: Station, person: Person, *, actor: str) -> Erased:
    """Erase the person: the directory entry and the personal data on their parcels.
    Refused (``person_has_parcels_waiting``) while one of their parcels has not left."""
    now = station.now()
    pseudonym = new_pseudonym()
    with station.db.write() as session:
        entry, person = _resolve(session, person)
        parcels = parcels_of(session, person)
        waiting = [p.id for p in parcels if p.state not in FINISHED]
        if waiting:
            raise PersonHasParcelsWaiting(
                f"parcel(s) {', '.join(str(i) for i in waiting)} of this person have not left "
                "the station yet: they can be erased once collected or returned"
            )
        values = {v for v in (person.email, person.phone) if v}
        if entry is not None:
            values |= {v for v in (entry.name, entry.email, entry.phone, entry.staff_note) if v}
        _scrub(session, parcels, values, pseudonym, now=now)
        recipient_id = entry.id if entry is not None else None
        if entry is not None:
            session.exec(  # any parcel still pointing at it (none after _scrub)
                sa.update(Parcel)
                .where(col(Parcel.recipient_id) == entry.id)
                .values(recipient_id=None)
            )
            session.delete(entry)
        record(
            session,
            actor=actor,
            action="person.erased",
            now=now,
            detail=f"{pseudonym}: parcels {', '.join(str(p.id) for p in parcels) or 'none'}"
            + (f"; directory entry {recipient_id} removed" if recipient_id else ""),
        )
        ids = tuple(p.id or 0 for p in parcels)
    checkpoint(station.db)
    return Erased(pseudonym, recipient_id, ids)


def _scrub(
    session: Session,
    parcels: Iterable[Parcel],
    values: set[str],
    pseudonym: str,
    *,
    now: datetime,
) -> None:
    """Replace what identifies the person on ``parcels`` and every copy of it."""
    parcels = list(parcels)
    tell_hub_of_erasure(session, parcels, now=now)
    names: set[str] = set()
    for parcel in parcels:
        values |= {v for v in (parcel.recipient_email, parcel.recipient_phone) if v}
        if parcel.erased_at is None:
            names.add(parcel.recipient_name)
        parcel.recipient_name = pseudonym
        parcel.recipient_email = None
        parcel.recipient_phone = None
        parcel.needs_accessible = False
        parcel.recipient_id = None
        parcel.erased_at = parcel.erased_at or now
        session.add(parcel)
    session.flush()
    ids = [p.id for p in parcels]
    events = session.exec(select(OutboxEvent).where(col(OutboxEvent.parcel_id).in_(ids))).all()
    for event in events:
        event.sealed = None
        session.add(event)
    for delivery in session.exec(
        select(Delivery).where(col(Delivery.event_id).in_([e.id for e in events]))
    ).all():
        delivery.recipient = pseudonym
        delivery.dedup_key = f"{delivery.event_id}:{delivery.channel.value}:erased-{delivery.id}"
        session.add(delivery)
    session.flush()
    # A name is replaced only where it is tied to these parcels (a common word elsewhere
    # is not the person); addresses and phone numbers wherever they appear.
    event_ids = [e.id for e in events]
    tied: dict[str, list[int | None]] = {
        "audit": list(
            session.exec(select(AuditEntry.id).where(col(AuditEntry.parcel_id).in_(ids))).all()
        ),
        "outbox_event": list(event_ids),
        "delivery": list(
            session.exec(select(Delivery.id).where(col(Delivery.event_id).in_(event_ids))).all()
        ),
        "payment": [p.id for p in payments_of_parcels(session, ids)],
    }
    connection = session.connection()
    everywhere = [v for v in values if len(v) >= 3]
    named = [n for n in names if len(n) >= 3]
    for table, key, column in TEXT_COLUMNS:
        # the names come from TEXT_COLUMNS (constants); the values are bound parameters
        replace = f"UPDATE {table} SET {column} = replace({column}, :v, :p) "  # noqa: S608
        for value in everywhere:
            connection.execute(
                sa.text(replace + f"WHERE instr({column}, :v) > 0"),
                {"v": value, "p": pseudonym},
            )
        keys = [int(k) for k in tied.get(table, []) if k is not None]
        for name in named if keys else []:
            connection.execute(
                sa.text(
                    replace + f"WHERE instr({column}, :v) > 0 AND {key} IN "
                    f"({', '.join(str(k) for k in keys)})"
                ),
                {"v": name, "p": pseudonym},
            )


def checkpoint(db: Database, *, tries: int = 20) -> bool:
    """Copy the WAL into the file and truncate it, so no old page with erased data stays
    in the log; True when it was truncated (a reader holding an old snapshot may keep it
    from completing: then it is tried again, and the next checkpoint completes it)."""
    import time

    for _ in range(tries):
        with db.engine.connect() as connection:
            busy, _log, _done = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if not busy:
            return True
        time.sleep(0.05)
    return False


@dataclass(frozen=True)
class RetentionReport:
    parcels: tuple[int, ...]
    pseudonyms: int


def erase_old_personal_data(station: Station, *, keep_for: timedelta) -> RetentionReport:
    """The retention job: the personal data of parcels that left the station more than
    ``keep_for`` ago is replaced by a pseudonym (one per person and run)."""
    now = station.now()
    with station.db.write() as session:
        due = session.exec(
            select(Parcel).where(
                col(Parcel.state).in_(FINISHED),
                col(Parcel.erased_at).is_(None),
                col(Parcel.finished_at) <= now - keep_for,
            )
        ).all()
        if not due:
            return RetentionReport((), 0)
        people: dict[str, list[Parcel]] = {}
        for parcel in due:
            key = recipient_key(parcel) or f"parcel:{parcel.id}"
            people.setdefault(key, []).append(parcel)
        for group in people.values():
            pseudonym = new_pseudonym()
            _scrub(session, group, set(), pseudonym, now=now)
            record(
                session,
                actor="system",
                action="parcel.personal_data_erased",
                now=now,
                detail=f"{pseudonym}: parcels {', '.join(str(p.id) for p in group)} "
                f"(left the station more than {keep_for.days} days ago)",
            )
        ids = tuple(p.id or 0 for p in due)
    checkpoint(station.db)
    return RetentionReport(ids, len(people))
