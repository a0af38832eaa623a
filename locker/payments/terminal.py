"""What the domain needs from a card terminal in the kiosk; an adapter implements it
(ZVT over TCP: ``drivers.zvt``). The station only sends amounts and reads results; no
card data ever passes here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class TerminalOutcome(StrEnum):
    """How one request to the terminal ended."""

    APPROVED = "approved"  # result code 00 and the completion came
    DECLINED = "declined"  # the terminal refused (result code other than 00, or an abort)
    TIMEOUT = "timeout"  # the customer walked away, or the terminal stopped answering
    BUSY = "busy"  # the terminal is in another transaction
    LOST = "lost"  # the link broke after approval or before the completion: money may be taken
    ERROR = "error"  # anything else (bad bytes, refused registration)


@dataclass(frozen=True)
class TerminalResult:
    """The end of one authorisation, reversal or refund."""

    outcome: TerminalOutcome
    amount_cents: int
    result_code: int | None = None  # the ZVT result code (bitmap 27), None when none came
    receipt_number: str | None = None  # the terminal's receipt number (bitmap 87)
    trace_number: str | None = None  # bitmap 0B
    card_type: str | None = None  # bitmap 8A, e.g. "girocard" (never a card number)
    text: str = ""  # the terminal's last words, for the log and the screen


@dataclass(frozen=True)
class DayTotals:
    """What the terminal's end-of-day (06 50) reported."""

    ok: bool
    total_cents: int
    count: int
    text: str = ""


class CardTerminal(Protocol):
    """The card terminal of this station's kiosk."""

    def register(self) -> bool:
        """Registration (06 00) at start: True when the terminal accepted it."""
        ...

    def authorise(self, amount_cents: int, on_text: Callable[[str], None]) -> TerminalResult:
        """Take ``amount_cents`` (06 01); ``on_text`` gets each intermediate text
        ("Insert card", "PIN please") as it comes. APPROVED only after result 00 *and*
        the completion."""
        ...

    def reverse(self, receipt_number: str) -> TerminalResult:
        """Cancel an approved payment by its receipt number (06 30)."""
        ...

    def end_of_day(self) -> DayTotals:
        """The terminal's end-of-day (06 50)."""
        ...
