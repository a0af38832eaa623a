"""How one conversation with the terminal counts: the rules of money.

Never APPROVED without result ``00`` *and* the completion. Once the terminal has begun a
transaction, only its own words end it without money (a result other than ``00``, an
abort before any approval); a conversation that breaks off otherwise (the link lost,
bytes that are no APDU, a completion that never comes, a status that cannot be read)
is LOST: money may have been taken, and the station must find out (reverse, or staff).
"""

from __future__ import annotations

from drivers.zvt import bcd, bitmaps, codes
from drivers.zvt.sequence import Ending, Exchange
from locker.payments.terminal import DayTotals, TerminalOutcome, TerminalResult


def judge(ex: Exchange, amount_cents: int | None) -> TerminalResult:
    """The result of a payment (``amount_cents`` asked) or a reversal (None).

    ``result_code`` is bitmap 27's; without one, the code of the terminal's abort
    (``06 1E xx``) or refusal (``84 xx``), from the same table: a reversal refused as
    "already reversed" is ``0xB4``, so a station that crashed after reversing can tell."""
    outcome, why = _outcome(ex, amount_cents)
    fields = ex.fields
    approved_cents = _amount(fields)
    return TerminalResult(
        outcome=outcome,
        amount_cents=approved_cents if approved_cents is not None else (amount_cents or 0),
        result_code=ex.result_code if ex.result_code is not None else ex.code,
        receipt_number=fields.digits(bitmaps.RECEIPT),
        trace_number=fields.digits(bitmaps.TRACE),
        card_type=card_type(fields),
        text=why,
    )


def _outcome(ex: Exchange, amount_cents: int | None) -> tuple[TerminalOutcome, str]:
    said = ex.texts[-1] if ex.texts else ""
    if not ex.started:
        if ex.ending is Ending.REFUSED and ex.code in codes.BUSY:
            return TerminalOutcome.BUSY, f"terminal busy ({ex.note})"
        if ex.ending is Ending.NO_ANSWER:
            return TerminalOutcome.TIMEOUT, f"the terminal did not answer ({ex.note})"
        return TerminalOutcome.ERROR, f"refused: {ex.note}"
    if ex.ending is Ending.ABORTED:
        if ex.approved_result:
            return TerminalOutcome.LOST, "aborted after an approved result"
        if ex.cancelled:
            return TerminalOutcome.TIMEOUT, "cancelled at the kiosk"
        if ex.code == codes.TIMEOUT_OR_ABORT:
            return TerminalOutcome.TIMEOUT, f"timed out ({said or ex.note})"
        if ex.code in codes.BUSY:
            return TerminalOutcome.BUSY, ex.note
        return TerminalOutcome.DECLINED, ex.note
    if ex.unreadable:
        return TerminalOutcome.LOST, "a status information could not be read"
    if ex.ending is Ending.COMPLETED:
        if ex.result_code is None:
            return TerminalOutcome.LOST, "completed without a result code"
        if not ex.approved_result:
            return TerminalOutcome.DECLINED, codes.result_text(ex.result_code)
        approved = _amount(ex.fields)
        if amount_cents is not None and approved is not None and approved != amount_cents:
            return TerminalOutcome.LOST, f"approved {approved} cents, not {amount_cents}"
        return TerminalOutcome.APPROVED, codes.result_text(codes.APPROVED)
    # closed, garbled, silent, out of sequence: the terminal began and it broke off
    if ex.result_code is not None and not ex.approved_result:
        return TerminalOutcome.DECLINED, codes.result_text(ex.result_code)
    stage = "after approval" if ex.approved_result else "before a result"
    return TerminalOutcome.LOST, f"{ex.ending.value} {stage}: {ex.note}"


def _amount(fields: bitmaps.Fields) -> int | None:
    return fields.bcd(bitmaps.AMOUNT)


def card_type(fields: bitmaps.Fields) -> str | None:
    """The card's name (bitmap 8B) or, without it, its type number (8A); never a number
    of the card itself."""
    name = fields.text(bitmaps.CARD_NAME)
    if name:
        return name
    kind = fields.byte(bitmaps.CARD_TYPE)
    return None if kind is None else f"card type {kind:02X}"


def day_totals(ex: Exchange) -> DayTotals:
    """The end-of-day's totals: amount (bitmap 04) and the count of payments (the sum of
    the counts in the single totals, bitmap 60)."""
    ok = ex.ending is Ending.COMPLETED and ex.approved_result and not ex.unreadable
    total = _amount(ex.fields) or 0
    text = codes.result_text(ex.result_code) if ex.result_code is not None else ex.note
    return DayTotals(ok=ok, total_cents=total, count=totals_count(ex.fields), text=text)


def totals_count(fields: bitmaps.Fields) -> int:
    """Bitmap 60: first and last receipt number (2 BCD bytes each), then per card family
    a count (1 byte) and an amount (6 BCD bytes). A tail cut short is not counted."""
    raw = fields.values.get(bitmaps.TOTALS)
    if raw is None:
        return 0
    count = 0
    for at in range(4, len(raw) - 6, 7):
        try:
            bcd.decode(raw[at + 1 : at + 7])
        except bcd.BcdError:
            break
        count += raw[at]
    return count
