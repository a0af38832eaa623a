"""Issuing pickup codes: one per stored parcel, and a recipient's newest code opens them all.

Only keyed hashes are stored. When a parcel is stored for a recipient who already has
parcels of the same carrier waiting (same e-mail address or phone number), the new code
opens all of them,
so the latest message the recipient gets is the only one they need; older codes keep
opening the parcels they were issued for. Staff can reissue a lost code: the parcel's
old codes stop opening it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, or_, select

from locker.codes import PickupCode, new_pin, new_qr_token
from locker.errors import InvalidTransition
from locker.notify.outbox import record_event
from locker.notify.sealing import Sealer
from locker.station import Station
from locker.store.tables import CodeParcel, Parcel, PickupCodeRow
from locker.types import ParcelKind, ParcelState

# A code stays alive while one of its parcels may still be collected (an expired parcel
# becomes collectable again when staff extend its deadline).
LIVE_STATES = (ParcelState.STORED, ParcelState.EXPIRED)


def recipient_key(parcel: Parcel) -> str | None:
    """What identifies a recipient across parcels: e-mail address, else phone number."""
    if parcel.recipient_email and parcel.recipient_email.strip():
        return "email:" + parcel.recipient_email.strip().lower()
    if parcel.recipient_phone:
        digits = "".join(ch for ch in parcel.recipient_phone if ch.isdigit() or ch == "+")
        if digits:
            return "phone:" + digits
    return None


def waiting_for_same_recipient(session: Session, parcel: Parcel) -> list[Parcel]:
    """Other stored parcels of the same recipient (none when the recipient is anonymous)."""
    key = recipient_key(parcel)
    if key is None:
        return []
    candidates = session.exec(
        select(Parcel).where(
            Parcel.state == ParcelState.STORED,
            Parcel.id != parcel.id,
            or_(
                col(Parcel.recipient_email).is_not(None),
                col(Parcel.recipient_phone).is_not(None),
            ),
        )
    ).all()
    # Only the same carrier's parcels: the carrier gets every code of its own parcels
    # anyway, so grouping hands it nothing new; another carrier's parcels stay apart.
    return [
        p
        for p in candidates
        if recipient_key(p) == key and p.carrier == parcel.carrier and p.kind is parcel.kind
    ]


def issue_code(
    session: Session, station: Station, parcels: Sequence[Parcel], *, now: datetime
) -> PickupCode:
    """A fresh code that opens ``parcels``; the first one's ``code_id`` points at it."""
    if any(p.kind is ParcelKind.RETURN for p in parcels):
        raise InvalidTransition("a return is taken away by its courier: it gets no pickup code")
    expires_at = max(p.deadline for p in parcels if p.deadline is not None)
    while True:
        code = PickupCode(new_pin(station.policy.pin_digits), new_qr_token())
        pin_hash = station.hasher.pin(code.pin)
        taken = session.exec(
            select(PickupCodeRow.id).where(col(PickupCodeRow.pin_hash) == pin_hash)
        ).first()
        if taken is None:  # a PIN collision is rare; draw again
            break
    row = PickupCodeRow(
        pin_hash=pin_hash,
        qr_hash=station.hasher.qr(code.qr_token),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    for parcel in parcels:
        assert parcel.id is not None
        session.add(CodeParcel(code_id=row.id, parcel_id=parcel.id))
    parcels[0].code_id = row.id
    session.add(parcels[0])
    record_event(  # the recipient's message carries the code, sealed until it is sent
        session,
        "code.issued",
        now=now,
        parcel=parcels[0],
        detail={
            "parcels": [p.id for p in parcels],
            "expires_at": expires_at.isoformat(),
            "code_id": row.id,
        },
        sealed=Sealer(station.hasher).seal(code),
    )
    return code


def parcels_opened_by(session: Session, code_id: int, *, now: datetime) -> list[Parcel]:
    """The stored parcels a code opens now (deadline not passed), in id order."""
    return list(
        session.exec(
            select(Parcel)
            .join(CodeParcel, col(CodeParcel.parcel_id) == col(Parcel.id))
            .where(
                CodeParcel.code_id == code_id,
                Parcel.state == ParcelState.STORED,
                col(Parcel.deadline) > now,
            )
            .order_by(col(Parcel.id))
        ).all()
    )


def codes_of(session: Session, parcel_id: int) -> list[PickupCodeRow]:
    return list(
        session.exec(
            select(PickupCodeRow)
            .join(CodeParcel, col(CodeParcel.code_id) == col(PickupCodeRow.id))
            .where(CodeParcel.parcel_id == parcel_id)
        ).all()
    )


def _retire_if_spent(session: Session, code: PickupCodeRow, now: datetime) -> None:
    if code.used_at is not None:
        return
    live = session.exec(
        select(Parcel.id)
        .join(CodeParcel, col(CodeParcel.parcel_id) == col(Parcel.id))
        .where(CodeParcel.code_id == code.id, col(Parcel.state).in_(LIVE_STATES))
    ).first()
    if live is None:
        code.used_at = now
        session.add(code)


def retire_spent_codes(session: Session, parcel_id: int, *, now: datetime) -> None:
    """Mark used every code of ``parcel_id`` that no longer opens any live parcel."""
    for code in codes_of(session, parcel_id):
        _retire_if_spent(session, code, now)


def extend_codes(session: Session, parcel_id: int, until: datetime) -> None:
    """Keep every code of the parcel valid until at least ``until``."""
    for code in codes_of(session, parcel_id):
        if code.used_at is None and code.expires_at < until:
            code.expires_at = until
            session.add(code)


def unlink_codes(session: Session, parcel_id: int, *, now: datetime) -> None:
    """The parcel's current codes stop opening it (a reissue); emptied codes are spent."""
    codes = codes_of(session, parcel_id)
    for code in codes:
        link = session.get(CodeParcel, (code.id, parcel_id))
        if link is not None:
            session.delete(link)
    session.flush()
    for code in codes:
        _retire_if_spent(session, code, now)
