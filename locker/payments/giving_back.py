"""Giving money back: a link payment refunded at the provider, a card payment reversed at
the terminal (by its receipt number). When that fails, staff get an alert with everything
needed to refund by hand. Each refund has its own idempotency key: never two refunds."""

from __future__ import annotations

import logging

from locker.payments import ledger
from locker.payments.provider import LinkProvider
from locker.payments.records import HOLDS_MONEY, Method, PayState
from locker.payments.terminal import CardTerminal, TerminalOutcome
from locker.station import Station

_LOGGER = logging.getLogger(__name__)
GIVE_BACK = (*HOLDS_MONEY, PayState.DUPLICATE)


def give_back_link(
    station: Station, provider: LinkProvider, payment_id: int, *, actor: str, reason: str = ""
) -> PayState:
    with station.db.read() as session:
        payment = ledger.get(session, payment_id)
    if payment.state not in GIVE_BACK or payment.payment_ref is None:
        return payment.state
    refund = provider.refund(
        payment.payment_ref,
        amount_cents=payment.amount_cents,
        idempotency_key=f"refund-{payment.idempotency_key}-{payment.refund_attempts}",
    )
    with station.db.write() as session:
        row = ledger.get(session, payment_id)
        now = station.now()
        if refund.ok:
            ledger.returned(
                session,
                row,
                now=now,
                actor=actor,
                refund_ref=refund.ref,
                text=refund.text,
                reason=reason,
            )
        elif row.state is not PayState.REFUND_FAILED:
            ledger.refund_failed(session, row, now=now, text=refund.text)
        return row.state


def give_back_card(
    station: Station,
    terminal: CardTerminal | None,
    payment_id: int,
    *,
    actor: str,
    reason: str = "",
) -> PayState:
    with station.db.read() as session:
        payment = ledger.get(session, payment_id)
    if payment.state not in GIVE_BACK:
        return payment.state
    result = None
    if terminal is not None and payment.receipt_number:
        try:
            result = terminal.reverse(payment.receipt_number)
        except Exception:  # a terminal adapter's fault must not lose the money's trail
            _LOGGER.exception("reversing payment %s raised", payment_id)
    with station.db.write() as session:
        row = ledger.get(session, payment_id)
        now = station.now()
        if result is not None and result.outcome is TerminalOutcome.APPROVED:
            ledger.returned(session, row, now=now, actor=actor, text=result.text, reason=reason)
        elif row.state is not PayState.REFUND_FAILED:
            why = result.outcome.value if result is not None else "no terminal or no receipt"
            ledger.refund_failed(session, row, now=now, text=f"the reversal failed ({why})")
        return row.state


def give_back(
    station: Station,
    links: LinkProvider | None,
    terminal: CardTerminal | None,
    payment_id: int,
    *,
    actor: str,
    reason: str = "",
) -> PayState:
    """Return the money of one payment the way it came."""
    with station.db.read() as session:
        payment = ledger.get(session, payment_id)
    if payment.method is Method.LINK:
        if links is None:
            with station.db.write() as session:
                row = ledger.get(session, payment_id)
                ledger.refund_failed(session, row, now=station.now(), text="no provider is set")
                return row.state
        return give_back_link(station, links, payment_id, actor=actor, reason=reason)
    if payment.method is Method.CARD:
        return give_back_card(station, terminal, payment_id, actor=actor, reason=reason)
    with station.db.write() as session:  # cash handed back at the desk, a waiver undone
        row = ledger.get(session, payment_id)
        if row.state not in GIVE_BACK:
            return row.state
        if row.method is Method.CASH and actor == "system":  # only staff's hands can
            if row.state is not PayState.REFUND_FAILED:
                ledger.refund_failed(session, row, now=station.now(), text="hand the cash back")
        else:
            ledger.returned(session, row, now=station.now(), actor=actor, reason=reason)
        return row.state


def give_back_held(
    station: Station, links: LinkProvider | None, terminal: CardTerminal | None
) -> int:
    """Every payment marked to go back (no door opened, or a duplicate): returned now. Run
    after each collection and by the sweep, so a crash in between loses nothing."""
    with station.db.write() as session:  # (marks the payments of parcels sent back)
        due = [p.id for p in ledger.to_give_back(session) if p.id is not None]
    for payment_id in due:
        give_back(station, links, terminal, payment_id, actor="system", reason="no door opened")
    return len(due)
