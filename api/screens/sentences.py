"""The station's screens say codes as sentences: what a template calls ``say`` (an audit
row, an alert's kind, a message's event and state, the buses' health) in the visitor's
language, from the tables of :mod:`locker.sentences`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from common.sentences import say
from locker.sentences import audit, buses, events, kinds
from locker.store.tables import AuditEntry


@dataclass(frozen=True)
class Say:
    lang: str

    def audit(self, entry: AuditEntry) -> str:
        return audit.audit_sentence(
            entry.action,
            self.lang,
            compartment_id=entry.compartment_id,
            parcel_id=entry.parcel_id,
            detail=entry.detail or "",
        )

    def alert(self, kind: object) -> str:
        return events.alert_sentence(str(getattr(kind, "value", kind)), self.lang)

    def message(self, event: str) -> str:
        return events.message_sentence(event, self.lang)

    def delivery(self, state: object) -> str:
        return say(events.DELIVERY_STATES, str(getattr(state, "value", state)), self.lang)

    def buses(
        self,
        states: Mapping[str, str],
        counters: Mapping[str, Mapping[str, int]],
        boards: Mapping[str, Sequence[Mapping[str, object]]],
    ) -> list[str]:
        return buses.bus_sentences(states, counters, boards, self.lang)

    def bus_state(self, state: str) -> str:
        return say(buses.STATES, state, self.lang)

    def kind(self, table: str, value: object) -> str:
        """A stored value of a small enumeration (``kinds.TABLES``) as a word."""
        return say(kinds.TABLES[table], str(getattr(value, "value", value)), self.lang)

    def failure(self, detail: str) -> str:
        return buses.failure_words(detail, self.lang)
