"""Customers collect: a PIN or a QR token opens every stored parcel it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, or_, select

from locker.audit import record, refused
from locker.errors import CodeInvalid, DoorBusy, TooManyAttempts
from locker.lifecycle import move
from locker.locks import DoorOutcome
from locker.payments import ledger
from locker.payments.due import Due, PaymentRequired, pay_token
from locker.people import attempts
from locker.services import doors, shared_compartments
from locker.services.doors import DoorResult
from locker.services.issuing import parcels_opened_by, retire_spent_codes
from locker.station import Station, get_parcel
from locker.store.tables import Parcel, PickupCodeRow
from locker.testkit import crashpoints
from locker.types import DoorPurpose, ParcelState


@dataclass(frozen=True)
class Collection:
    """What a code opened: one result per compartment, in the order they were opened."""

    doors: tuple[DoorResult, ...]

    @property
    def all_opened(self) -> bool:
        return all(door.opened for door in self.doors)


def parcels_of_code(
    session: Session, station: Station, code: str, *, terminal: str, now: datetime
) -> list[Parcel]:
    """The stored parcels a live code opens, with the attempt limits applied: a code that
    opens nothing counts as a wrong one (and is audited); the caller raises CodeInvalid
    after committing that."""
    attempts.check(session, station.policy.attempts, terminal, now, code=code)
    row = session.exec(
        select(PickupCodeRow).where(
            or_(
                col(PickupCodeRow.pin_hash) == station.hasher.pin(code),
                col(PickupCodeRow.qr_hash) == station.hasher.qr(code),
            )
        )
    ).first()
    parcels = []
    if row is not None and row.id is not None and row.used_at is None and row.expires_at > now:
        parcels = parcels_opened_by(session, row.id, now=now)
    if not parcels:
        attempts.failed(session, terminal, now)
        record(session, actor=f"customer@{terminal}", action="code.rejected", now=now)
    else:
        attempts.succeeded(session, terminal)
    return parcels


def collect(station: Station, *, code: str, terminal: str) -> Collection:
    """Open the compartments of the parcels that ``code`` (PIN or QR token) belongs to.

    Unknown, used and expired codes all raise :class:`CodeInvalid`, counted against the
    terminal and the station (:mod:`locker.people.attempts`). A door that does not open leaves
    its parcel stored and the code valid, so the customer can try again or call staff.
    While a parcel behind one of the doors is unpaid, no door opens: :class:`PaymentRequired`
    says what is due (pay, open, confirm: :mod:`locker.payments`). A paid parcel whose door
    did not open has its payment marked to go back (:func:`ledger.hold_back`).
    """
    now = station.now()
    actor = f"customer@{terminal}"
    rejected = False
    owed: tuple[Due, ...] = ()
    try:
        with station.db.write() as session:
            parcels = parcels_of_code(session, station, code, terminal=terminal, now=now)
            if not parcels:
                rejected = True
            else:
                owed = _owed(session, station, parcels)
                if owed:
                    ops = []
                    record(session, actor=actor, action="collect.payment_required", now=now)
                else:
                    ops = _begin_doors(session, parcels, actor=actor, now=now)
    except (TooManyAttempts, DoorBusy) as exc:  # rolled back: audited on their own
        with station.db.write() as session:
            refused(session, actor=actor, action="collect.refused", now=now, why=exc.code)
        raise
    if rejected:
        raise CodeInvalid()
    if owed:
        raise PaymentRequired(owed)
    results = []
    for op_id, cid, pids in ops:
        outcome = doors.pulse(station, cid)
        crashpoints.reached(crashpoints.AFTER_DOOR_PULSE)
        now = station.now()
        with station.db.write() as session:
            doors.finish(session, op_id, outcome, now=now, bus=doors.bus_of(station, cid))
            for pid in pids:
                if outcome is DoorOutcome.OPENED:
                    if get_parcel(session, pid).state is ParcelState.STORED:
                        hand_out(session, pid, actor=actor, now=now)
                    else:
                        doors.changed_during_opening(session, cid, pid, now=now)
                else:  # staff were alerted (the door's fault); the parcel shows it too
                    parcel = get_parcel(session, pid)
                    parcel.flagged = f"its door did not open for the customer ({outcome.value})"
                    session.add(parcel)
                    if outcome is DoorOutcome.REFUSED:  # surely shut: the money goes back
                        ledger.hold_back(session, pid, now=now)
            crashpoints.reached(crashpoints.BEFORE_COMPLETION_COMMIT)
        crashpoints.reached(crashpoints.AFTER_OUTCOME_COMMIT)
        results.append(DoorResult(cid, outcome, pids))
    return Collection(tuple(results))


def _owed(session: Session, station: Station, parcels: list[Parcel]) -> tuple[Due, ...]:
    """The unpaid parcels behind the doors the code would open (those beside included)."""
    owed = []
    for _cid, pids in _by_compartment(session, parcels):
        for pid in pids:
            parcel = get_parcel(session, pid)
            if not ledger.paid(session, parcel):
                token = pay_token(station.hasher, pid)
                owed.append(Due(pid, parcel.amount_due_cents, parcel.currency, token))
    return tuple(owed)


def _by_compartment(session: Session, parcels: list[Parcel]) -> list[tuple[int, tuple[int, ...]]]:
    """One door per compartment, in the order of its first parcel: a shared compartment
    opens once for all its stored parcels (those beside the code's ones too: the
    recipient takes out whatever lies behind the door)."""
    doors_: dict[int, list[int]] = {}
    for parcel in parcels:
        assert parcel.compartment_id is not None
        assert parcel.id is not None
        doors_.setdefault(parcel.compartment_id, []).append(parcel.id)
    for cid, pids in doors_.items():
        shared_compartments.refuse_while_depositing(session, cid)
        for other in shared_compartments.in_compartment(session, cid):
            if other.state is ParcelState.STORED and other.id not in pids:
                assert other.id is not None
                pids.append(other.id)
        pids.sort()
    return [(cid, tuple(pids)) for cid, pids in doors_.items()]


def _begin_doors(
    session: Session, parcels: list[Parcel], *, actor: str, now: datetime
) -> list[tuple[int, int, tuple[int, ...]]]:
    """The intents of every door the code opens (one per compartment), committed together
    before any pulse."""
    ops = []
    for cid, pids in _by_compartment(session, parcels):
        op_id = doors.begin(
            session,
            compartment_id=cid,
            purpose=DoorPurpose.COLLECT,
            actor=actor,
            now=now,
            parcel_ids=pids,
        )
        ops.append((op_id, cid, pids))
    return ops


def hand_out(session: Session, parcel_id: int, *, actor: str, now: datetime) -> None:
    parcel = get_parcel(session, parcel_id)
    move(session, parcel, ParcelState.COLLECTED, actor=actor, now=now)
    parcel.finished_at = now
    parcel.flagged = ""
    retire_spent_codes(session, parcel_id, now=now)
