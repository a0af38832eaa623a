"""A card terminal that answers from a script, for the payment services' own tests (the
real ZVT client is tested against the terminal simulator in sim/). Each ``authorise``
takes the next outcome of ``script`` (approved when it runs out)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from locker.payments.terminal import DayTotals, TerminalOutcome, TerminalResult


@dataclass
class ScriptedTerminal:
    script: list[TerminalOutcome] = field(default_factory=list)
    reversals_fail: bool = False
    taken: dict[str, int] = field(default_factory=dict)  # receipt -> cents still held
    reversed: dict[str, int] = field(default_factory=dict)
    texts: tuple[str, ...] = ("Insert card", "PIN please")
    _receipts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def register(self) -> bool:
        return True

    def authorise(self, amount_cents: int, on_text: Callable[[str], None]) -> TerminalResult:
        for text in self.texts:
            on_text(text)
        outcome = self.script.pop(0) if self.script else TerminalOutcome.APPROVED
        if outcome in (TerminalOutcome.APPROVED, TerminalOutcome.LOST):
            receipt = f"{next(self._receipts):04d}"
            self.taken[receipt] = amount_cents  # a lost link after approval: taken all the same
            code = 0
            return TerminalResult(outcome, amount_cents, code, receipt, text="Payment approved")
        return TerminalResult(
            outcome, amount_cents, 5 if outcome is TerminalOutcome.DECLINED else None
        )

    def reverse(self, receipt_number: str) -> TerminalResult:
        if self.reversals_fail or receipt_number not in self.taken:
            return TerminalResult(TerminalOutcome.DECLINED, 0, 0x6F, receipt_number)
        amount = self.taken.pop(receipt_number)
        self.reversed[receipt_number] = amount
        return TerminalResult(TerminalOutcome.APPROVED, amount, 0, receipt_number, text="Reversed")

    def end_of_day(self) -> DayTotals:
        return DayTotals(True, sum(self.taken.values()), len(self.taken), "End of day done")
