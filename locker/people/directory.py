"""The directory: the people the station knows, kept by staff (added, changed, listed).

A person's fields are checked in :mod:`locker.people.person`, found by couriers through
:mod:`locker.people.directory_search`, and imported or exported as CSV by
:mod:`locker.people.directory_csv`.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from locker.audit import record
from locker.errors import NotFound
from locker.people.directory_search import changed, search
from locker.people.person import Person, check
from locker.station import Station
from locker.store.tables import Recipient


def apply_fields(row: Recipient, person: Person, now: datetime) -> None:
    """Put a checked person's fields on its row."""
    row.name = person.name
    row.unit = person.unit
    row.email = person.email
    row.phone = person.phone
    row.language = person.language
    row.needs_accessible = person.needs_accessible
    row.notify_by = person.notify_by
    row.staff_note = person.staff_note
    row.updated_at = now


def add_person(session: Session, person: Person, *, actor: str, now: datetime) -> Recipient:
    """A new row for a checked person, audited by id only."""
    row = Recipient(name="", created_at=now, updated_at=now)
    apply_fields(row, person, now)
    session.add(row)
    session.flush()
    # The audit log names the person by id only: it is kept for good, personal data is not.
    record(session, actor=actor, action="recipient.created", now=now, detail=f"recipient {row.id}")
    return row


def recipient_row(session: Session, recipient_id: int) -> Recipient:
    row = session.get(Recipient, recipient_id)
    if row is None:
        raise NotFound("recipient", recipient_id)
    return row


def create(station: Station, person: Person, *, actor: str) -> Recipient:
    person = check(person)
    with station.db.write() as session:
        row = add_person(session, person, actor=actor, now=station.now())
    changed()
    return row


def update(station: Station, recipient_id: int, person: Person, *, actor: str) -> Recipient:
    person = check(person)
    now = station.now()
    with station.db.write() as session:
        row = recipient_row(session, recipient_id)
        apply_fields(row, person, now)
        session.add(row)
        record(
            session, actor=actor, action="recipient.updated", now=now, detail=f"recipient {row.id}"
        )
    changed()
    return row


def get(station: Station, recipient_id: int) -> Recipient:
    with station.db.read() as session:
        return recipient_row(session, recipient_id)


def listing(
    station: Station, text: str = "", *, limit: int = 100, offset: int = 0
) -> list[Recipient]:
    """People by name; with ``text``, the best matches of the tolerant search first."""
    if text.strip():
        found = search(station, text, limit=limit)
        with station.db.read() as session:
            rows = {
                r.id: r
                for r in session.exec(
                    select(Recipient).where(col(Recipient.id).in_([m.recipient_id for m in found]))
                ).all()
            }
        return [rows[m.recipient_id] for m in found if m.recipient_id in rows]
    with station.db.read() as session:
        return list(
            session.exec(
                select(Recipient)
                .order_by(col(Recipient.name), col(Recipient.id))
                .limit(limit)
                .offset(offset)
            ).all()
        )


def count(station: Station) -> int:
    with station.db.read() as session:
        return int(session.exec(select(func.count(col(Recipient.id)))).one() or 0)
