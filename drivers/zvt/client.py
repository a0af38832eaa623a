"""The station's ZVT client: :class:`ZvtTerminal` implements
:class:`locker.payments.terminal.CardTerminal` over TCP.

Each request opens its own connection to the terminal (port 20007 by default) and closes
it at the end of the transaction. One transaction at a time: a second payment while one
runs is BUSY at once, without a word to the terminal. The station registers at start
(:meth:`register`), and again before a payment if the terminal has forgotten it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.zvt import bcd, bitmaps, codes, outcome
from drivers.zvt.apdu import Apdu
from drivers.zvt.link import Link
from drivers.zvt.sequence import Ending, Exchange, Timeouts, run
from locker.payments.terminal import DayTotals, TerminalOutcome, TerminalResult

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT = 20007
EUR = 978
# Registration's config byte: the station takes the receipts (02 payment, 04 admin) as
# text blocks (80), wants intermediate status (08), and controls payment (10) and admin
# functions (20). The kiosk has no printer; the receipt lines are acknowledged and dropped.
CONFIG = 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x80
NOT_REGISTERED = frozenset({0x6B, codes.NOT_POSSIBLE})


@dataclass
class Counters:
    """What the terminal did since start, for health and the log."""

    payments: int = 0
    approved: int = 0
    lost: int = 0
    garbled: int = 0  # conversations ended by bytes that are no APDU
    out_of_sequence: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)


class ZvtTerminal:
    """A card terminal at ``host:port`` speaking ZVT."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        password: str,
        config: int = CONFIG,
        currency: int = EUR,
        timeouts: Timeouts | None = None,
    ) -> None:
        bcd.password(password)  # refused at once if not 6 digits
        self.host, self.port = host, port
        self._password = password
        self.config = config
        self.currency = currency
        self.timeouts = timeouts or Timeouts()
        self.counters = Counters()
        self._lock = threading.Lock()
        self._registered = False
        self._cancel = threading.Event()
        self.last_frames: tuple[list[bytes], list[bytes]] = ([], [])  # sent, received

    def __repr__(self) -> str:  # never the password
        return f"ZvtTerminal({self.host}:{self.port})"

    # -- the commands ----------------------------------------------------------------------
    def registration(self) -> Apdu:
        """06 00: password, config byte, currency (bitmap 49)."""
        data = bcd.password(self._password) + bytes((self.config,))
        return Apdu(0x06, 0x00, data + bytes((bitmaps.CURRENCY,)) + bcd.encode(self.currency, 2))

    @staticmethod
    def authorisation(amount_cents: int) -> Apdu:
        """06 01 with the amount (bitmap 04)."""
        return Apdu(0x06, 0x01, bytes((bitmaps.AMOUNT,)) + bcd.amount(amount_cents))

    def reversal(self, receipt_number: str) -> Apdu:
        """06 30: password and the receipt number of the payment (bitmap 87)."""
        if not (receipt_number.isdigit() and len(receipt_number) <= 4):
            raise ValueError(f"a receipt number is up to 4 digits, not {receipt_number!r}")
        receipt = bytes((bitmaps.RECEIPT,)) + bcd.encode(int(receipt_number), 2)
        return Apdu(0x06, 0x30, bcd.password(self._password) + receipt)

    def end_of_day_command(self) -> Apdu:
        """06 50 with the password."""
        return Apdu(0x06, 0x50, bcd.password(self._password))

    def status_enquiry(self) -> Apdu:
        """05 01 with the password."""
        return Apdu(0x05, 0x01, bcd.password(self._password))

    # -- CardTerminal ----------------------------------------------------------------------
    def register(self) -> bool:
        with self._lock:
            return self._register()

    def authorise(self, amount_cents: int, on_text: Callable[[str], None]) -> TerminalResult:
        try:
            command = self.authorisation(amount_cents)
        except bcd.BcdError as exc:
            return TerminalResult(TerminalOutcome.ERROR, amount_cents, text=str(exc))
        if not self._lock.acquire(blocking=False):
            return TerminalResult(
                TerminalOutcome.BUSY, amount_cents, text="another payment is running"
            )
        try:
            if not self._registered:
                refused = self._unregistered(amount_cents)
                if refused is not None:
                    return refused
            self._cancel.clear()
            ex = self._registered_exchange(command, on_text, self._cancel)
            result = outcome.judge(ex, amount_cents)
            self._count(result, payment=True)
            return result
        finally:
            self._lock.release()

    def cancel(self) -> None:
        """The customer gave up at the kiosk: the running payment is aborted (``06 B0``)
        unless the terminal has approved it already (then it runs to its end)."""
        self._cancel.set()

    def reverse(self, receipt_number: str) -> TerminalResult:
        command = self.reversal(receipt_number)
        if not self._lock.acquire(timeout=self.timeouts.transaction_s):
            return TerminalResult(TerminalOutcome.BUSY, 0, text="another transaction is running")
        try:
            result = outcome.judge(self._registered_exchange(command, None), None)
            self._count(result, payment=False)
            return result
        finally:
            self._lock.release()

    def end_of_day(self) -> DayTotals:
        if not self._lock.acquire(timeout=self.timeouts.transaction_s):
            return DayTotals(ok=False, total_cents=0, count=0, text="another transaction runs")
        try:
            return outcome.day_totals(self._registered_exchange(self.end_of_day_command(), None))
        finally:
            self._lock.release()

    def enquire(self) -> tuple[bool, str]:
        """Status enquiry (05 01): is the terminal there and ready, and its words."""
        if not self._lock.acquire(timeout=self.timeouts.ack_s):
            return False, "another transaction is running"
        try:
            ex = self._exchange(self.status_enquiry(), None)
        finally:
            self._lock.release()
        ready = ex.ending is Ending.COMPLETED and ex.result_code in (None, codes.APPROVED)
        return ready, ex.note if ex.ending is not Ending.COMPLETED else "ready"

    # -- inside ----------------------------------------------------------------------------
    def _register(self) -> bool:
        return self._registration().ending is Ending.COMPLETED

    def _registration(self) -> Exchange:
        ex = self._exchange(self.registration(), None)
        self._registered = ex.ending is Ending.COMPLETED
        if not self._registered:
            _LOGGER.warning("zvt %s: registration failed: %s %s", self, ex.ending.value, ex.note)
        return ex

    def _unregistered(self, amount_cents: int) -> TerminalResult | None:
        """Register before a payment; None when it worked, else why there is no payment
        (a busy or silent terminal says so; anything else is an error: no money moved)."""
        ex = self._registration()
        if ex.ending is Ending.COMPLETED:
            return None
        if ex.started:
            return TerminalResult(
                TerminalOutcome.ERROR, amount_cents, text=f"registration failed: {ex.note}"
            )
        return outcome.judge(ex, amount_cents)

    def _registered_exchange(
        self,
        command: Apdu,
        on_text: Callable[[str], None] | None,
        cancel: threading.Event | None = None,
    ) -> Exchange:
        """Run ``command``; when the terminal refuses it for want of a registration (it
        restarted and forgot the station), register and ask once more: the refusal
        started nothing, so nothing is taken twice."""
        ex = self._exchange(command, on_text, cancel)
        if ex.ending is Ending.REFUSED and ex.code in NOT_REGISTERED and self._register():
            ex = self._exchange(command, on_text, cancel)
        return ex

    def _exchange(
        self,
        command: Apdu,
        on_text: Callable[[str], None] | None,
        cancel: threading.Event | None = None,
    ) -> Exchange:
        try:
            link = Link.connect(self.host, self.port, self.timeouts.connect_s)
        except OSError as exc:
            _LOGGER.warning("zvt %s: cannot connect: %s", self, exc)
            return Exchange(ending=Ending.NO_ANSWER, note=f"cannot connect: {exc}")
        with link:
            ex = run(link, command, self.timeouts, on_text, cancel)
            self.last_frames = (link.sent, link.received)
        if ex.ending is Ending.GARBLED:
            self.counters.garbled += 1
        elif ex.ending is Ending.OUT_OF_SEQUENCE:
            self.counters.out_of_sequence += 1
        _LOGGER.info("zvt %s: %s ended %s %s", self, command.command, ex.ending.value, ex.note)
        return ex

    def _count(self, result: TerminalResult, *, payment: bool) -> None:
        c = self.counters
        c.by_outcome[result.outcome.value] = c.by_outcome.get(result.outcome.value, 0) + 1
        if payment:
            c.payments += 1
            c.approved += result.outcome is TerminalOutcome.APPROVED
        c.lost += result.outcome is TerminalOutcome.LOST
