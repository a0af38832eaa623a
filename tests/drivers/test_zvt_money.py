"""By property, over real TCP: whatever faults the terminal shows, the client's word on
each payment agrees with the money the terminal took.

Every APPROVED is a payment in the terminal's journal, with its receipt number and amount;
every payment in the journal was reported APPROVED or LOST (never DECLINED, TIMEOUT, BUSY
or ERROR: those took no money).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from locker.payments.terminal import TerminalOutcome, TerminalResult
from sim.zvt import ZvtFault
from tests.zvt_support import rig

steps = st.lists(
    st.tuples(st.sampled_from([None, *ZvtFault]), st.integers(1, 50_000)), min_size=1, max_size=6
)


@settings(max_examples=15)
@given(steps)
def test_what_the_client_says_is_what_the_terminal_took(
    plan: list[tuple[ZvtFault | None, int]],
) -> None:
    results: list[TerminalResult] = []
    with rig() as zvt:
        for fault, cents in plan:
            zvt.sim.faults = set() if fault is None else {fault}
            results.append(zvt.terminal.authorise(cents, lambda text: None))
        zvt.settle()
        journal = {f"{p.receipt:04d}": p.amount_cents for p in zvt.sim.journal}
    approved = [r for r in results if r.outcome is TerminalOutcome.APPROVED]
    assert all(journal.get(r.receipt_number or "") == r.amount_cents for r in approved)
    money_taken = len(journal)
    may_have = sum(r.outcome in (TerminalOutcome.APPROVED, TerminalOutcome.LOST) for r in results)
    assert money_taken == may_have
    for (fault, _), result in zip(plan, results, strict=True):
        if fault in (None, ZvtFault.UNKNOWN_BITMAPS):
            assert result.outcome is TerminalOutcome.APPROVED
