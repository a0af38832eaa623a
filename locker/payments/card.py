"""Pay by card at the kiosk's terminal, through the :class:`CardTerminal` protocol: the
parcel's open link pages are closed first (so the phone cannot pay as well), the intent is
committed, the terminal takes the amount (its texts go to the screen), and the approval
(result 00 *and* the completion) is committed before any door opens."""

from __future__ import annotations

import logging
from collections.abc import Callable

from locker.errors import InvalidTransition
from locker.payments import ledger
from locker.payments.due import OWED_BACK, NothingToPay, PaymentBusy
from locker.payments.giving_back import give_back_card
from locker.payments.links import close_open
from locker.payments.provider import LinkProvider
from locker.payments.records import Method, PayState
from locker.payments.terminal import CardTerminal, TerminalOutcome, TerminalResult
from locker.station import Station, get_parcel
from locker.testkit import crashpoints
from locker.types import AlertKind, ParcelState

_LOGGER = logging.getLogger(__name__)


def pay_by_card(
    station: Station,
    terminal: CardTerminal,
    links: LinkProvider | None,
    parcel_id: int,
    *,
    actor: str,
    on_text: Callable[[str], None],
) -> PayState:
    """Take the parcel's amount at the terminal; APPROVED when the parcel is paid now."""
    with station.db.read() as session:
        parcel = get_parcel(session, parcel_id)
        if ledger.paid(session, parcel):
            raise NothingToPay(f"parcel {parcel_id} has nothing left to pay")
        if parcel.state is not ParcelState.STORED:
            raise InvalidTransition(f"parcel {parcel_id} is {parcel.state}: it is not here to pay")
        if ledger.pending(session, parcel_id, Method.CARD):
            raise PaymentBusy("a card payment for this parcel is under way")
        if ledger.holding(session, parcel_id) is not None:
            raise PaymentBusy(OWED_BACK)
    if links is not None and close_open(station, links, parcel_id):
        return PayState.APPROVED  # paid by the link meanwhile: the card is not charged
    with station.db.write() as session:
        payment = ledger.begin(
            session, get_parcel(session, parcel_id), Method.CARD, actor=actor, now=station.now()
        )
    crashpoints.reached(crashpoints.AFTER_CHARGE_INTENT)
    assert payment.id is not None
    try:
        result = terminal.authorise(payment.amount_cents, on_text)
    except Exception:  # an adapter's fault: the money may or may not be taken
        _LOGGER.exception("the terminal raised during payment %s", payment.id)
        result = TerminalResult(TerminalOutcome.LOST, payment.amount_cents, text="adapter error")
    return _settle(station, terminal, payment.id, result)


def _settle(
    station: Station, terminal: CardTerminal, payment_id: int, result: TerminalResult
) -> PayState:
    approved = result.outcome is TerminalOutcome.APPROVED
    if approved and result.amount_cents not in (0, _amount(station, payment_id)):
        approved = False  # the terminal took another amount: reversed below, never counted
    with station.db.write() as session:
        payment = ledger.get(session, payment_id)
        now = station.now()
        if approved:
            counted = ledger.approve(
                session, payment, now=now, receipt_number=result.receipt_number, text=result.text
            )
        elif result.outcome is TerminalOutcome.LOST or result.receipt_number:
            # The money may be taken: reverse it when the receipt is known, else staff check.
            payment.receipt_number = result.receipt_number
            ledger.fail(session, payment, now=now, text=result.text or "link lost", unknown=True)
            payment.state = PayState.DUPLICATE if result.receipt_number else PayState.UNKNOWN
            if not result.receipt_number:
                why = "the terminal's answer was lost: check its journal, refund if charged"
                ledger.alert(session, AlertKind.PAYMENT_UNKNOWN, payment, now=now, why=why)
            counted = False
        else:
            ledger.fail(session, payment, now=now, text=result.text or result.outcome.value)
            counted = False
        state = payment.state
    if approved:
        crashpoints.reached(crashpoints.AFTER_APPROVAL)
    if state is PayState.DUPLICATE:
        give_back_card(station, terminal, payment_id, actor="system", reason="not counted")
        return PayState.FAILED
    return PayState.APPROVED if counted else state


def _amount(station: Station, payment_id: int) -> int:
    with station.db.read() as session:
        return ledger.get(session, payment_id).amount_cents


def lost_at_restart(station: Station) -> int:
    """Start-up: a card payment still pending was cut off by a crash; the terminal may have
    taken the money and nobody knows its receipt: staff check the terminal's journal."""
    with station.db.write() as session:
        cut = ledger.pending_card(session)
        now = station.now()
        for payment in cut:
            ledger.fail(session, payment, now=now, text="the station stopped", unknown=True)
            why = "the station stopped during a card payment: check the terminal's journal"
            ledger.alert(session, AlertKind.PAYMENT_UNKNOWN, payment, now=now, why=why)
        return len(cut)
