"""Pay, open, confirm: the station's one place that knows the pay-by-link provider and the
kiosk's card terminal (both optional, both injected here: ``Cashier(links=…, terminal=…)``).

A code whose parcels are unpaid opens nothing (:class:`PaymentRequired`); when it is typed,
the provider is asked first, so a paid customer whose webhook was lost is let in. After a
collection, a paid parcel whose door surely did not open gets its money back at once (the
sweep retries it after a crash); a failed refund becomes an alert for staff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from locker.payments import card, giving_back, links
from locker.payments.due import PaymentRequired, parcel_of_pay_token, pay_token
from locker.payments.provider import LinkProvider, LinksOff, ProviderUnavailable
from locker.payments.records import PayState
from locker.payments.terminal import CardTerminal
from locker.services import pickup
from locker.services.pickup import Collection
from locker.station import Station

_LOGGER = logging.getLogger(__name__)


@dataclass
class Cashier:
    station: Station
    links: LinkProvider | None = None
    terminal: CardTerminal | None = None
    public_url: str = "http://127.0.0.1:8000"

    def return_url(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/pay/{token}/done"

    def collect(self, *, code: str, terminal: str) -> Collection:
        """:func:`pickup.collect`, with the provider asked about unpaid parcels first."""
        try:
            result = pickup.collect(self.station, code=code, terminal=terminal)
        except PaymentRequired as owed:
            if self.links is None or not all(self._paid_now(d.parcel_id) for d in owed.due):
                raise
            result = pickup.collect(self.station, code=code, terminal=terminal)
        if not result.all_opened:
            self.give_back_held()
        return result

    def _paid_now(self, parcel_id: int) -> bool:
        assert self.links is not None
        return links.check_parcel(self.station, self.links, parcel_id)

    def link_for(self, token: str, *, actor: str) -> str | None:
        """The provider's page for the parcel of a pay token (None: not a token of ours)."""
        parcel_id = parcel_of_pay_token(self.station.hasher, token)
        if parcel_id is None or self.links is None:
            return None
        return links.link_for(
            self.station, self.links, parcel_id, actor=actor, return_url=self.return_url(token)
        )

    def check_token(self, token: str) -> bool | None:
        """Back from the provider's page: is the parcel paid now? (None: not our token)."""
        parcel_id = parcel_of_pay_token(self.station.hasher, token)
        if parcel_id is None or self.links is None:
            return None
        return links.check_parcel(self.station, self.links, parcel_id)

    def pay_by_card(
        self, parcel_id: int, *, actor: str, on_text: Callable[[str], None]
    ) -> PayState:
        if self.terminal is None:
            raise ProviderUnavailable("this station has no card terminal")
        return card.pay_by_card(
            self.station, self.terminal, self.links, parcel_id, actor=actor, on_text=on_text
        )

    def webhook(self, payload: bytes, headers: Mapping[str, str]) -> str:
        if self.links is None:
            raise LinksOff("this station takes no payments by link")
        return links.webhook(self.station, self.links, payload, headers)

    def give_back(self, payment_id: int, *, actor: str, reason: str) -> PayState:
        return giving_back.give_back(
            self.station, self.links, self.terminal, payment_id, actor=actor, reason=reason
        )

    def give_back_held(self) -> int:
        return giving_back.give_back_held(self.station, self.links, self.terminal)

    def sweep(self) -> int:
        """The background check: open link payments asked about, held money returned."""
        changed = 0
        if self.links is not None:
            changed += links.sweep(
                self.station,
                self.links,
                return_url=lambda pid: self.return_url(pay_token(self.station.hasher, pid)),
            )
        return changed + self.give_back_held()

    def recover(self) -> None:
        """At start, before requests: card payments a crash cut off go to staff; money
        marked to go back goes back; the provider is asked about open links."""
        card.lost_at_restart(self.station)
        try:
            self.sweep()
        except ProviderUnavailable as exc:
            _LOGGER.warning("payments not checked at start: %s", exc)
