"""The kiosk's card terminal over ZVT (the German ECR interface), a client of our own.

Modules, from the bytes up: :mod:`~drivers.zvt.bcd` (packed BCD: amounts, password,
variable lengths), :mod:`~drivers.zvt.apdu` (``CLASS INSTR LEN DATA`` with the long length
form, cut from the TCP stream), :mod:`~drivers.zvt.bitmaps` (the fields of a message,
unknown ones skipped), :mod:`~drivers.zvt.codes` (what the numbers mean),
:mod:`~drivers.zvt.link` (one TCP connection), :mod:`~drivers.zvt.sequence` (one command's
conversation, strict about its order), :mod:`~drivers.zvt.outcome` (how it counts:
the rules of money) and :mod:`~drivers.zvt.client` (the :class:`ZvtTerminal`).
"""

from __future__ import annotations

from drivers.zvt.client import DEFAULT_PORT, ZvtTerminal
from drivers.zvt.sequence import Timeouts
from locker.payments.terminal import CardTerminal
from locker.runtime.settings import ZVT_SIM, Settings

__all__ = ["DEFAULT_PORT", "Timeouts", "ZvtTerminal", "card_terminal", "timeouts_of"]


def timeouts_of(settings: Settings) -> Timeouts:
    return Timeouts(
        connect_s=settings.zvt_connect_timeout_s,
        ack_s=settings.zvt_ack_timeout_s,
        transaction_s=settings.zvt_payment_timeout_s,
        completion_s=settings.zvt_completion_timeout_s,
        abort_s=settings.zvt_ack_timeout_s,
    )


def card_terminal(settings: Settings) -> CardTerminal | None:
    """The station's card terminal from its settings; None when no host is set.

    ``LOCKER_ZVT_HOST=sim`` is resolved to the simulator's address by the runtime that
    starts it (``api/runtime.py``) before this is called; here it is refused.
    """
    if not settings.zvt_host:
        return None
    if settings.zvt_host == ZVT_SIM:
        raise ValueError("LOCKER_ZVT_HOST=sim: start the simulator first (api.runtime does)")
    return ZvtTerminal(
        settings.zvt_host,
        settings.zvt_port,
        password=settings.zvt_password.get_secret_value(),
        timeouts=timeouts_of(settings),
    )
