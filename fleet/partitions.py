"""How the hub's workers split the stations between them: by the topics' partition level.

Every station's topics carry its partition (``lps/v2/p07/S/evt``,
:func:`locker.uplink.messages.partition`), and a worker subscribes to the partitions it
takes (``$share/<group>/lps/v2/p07/+/evt``, one shared subscription a partition and kind), so
all the messages of one station go to one worker. Two workers' batches then never queue
for the same stations' rows, which is what lets a second worker add to the first.

The workers agree on who takes what through their **presence**, a retained message each
publishes on ``lps/hub/<group>/<client id>`` (its will says ``online: false`` when it drops)
with the partitions it holds. Partition ``p`` belongs to ``sorted(live)[p % len(live)]``;
a worker subscribes to what is newly its own, announces it once the broker confirmed the
subscriptions, and lets go of a partition only once another live worker has announced
that it holds it. So at no moment is a partition left without a subscriber (short of a
worker whose session ends with its connection: ``FLEET_MQTT_SESSION_EXPIRY_S=0``), and a
partition that two workers hold for a moment is still stored once and in each station's
order (the rows are locked, as with one shared group). A worker that starts alone, or does
not yet know the others, takes every partition until it hears of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from locker.uplink.messages import PARTITIONS

WORKERS_ROOT = "lps/hub"
ALL = frozenset(range(PARTITIONS))


def presence_topic(group: str, client_id: str) -> str:
    return f"{WORKERS_ROOT}/{group}/{client_id}"


def presence_filter(group: str) -> str:
    return f"{WORKERS_ROOT}/{group}/+"


def presence_payload(online: bool, holds: Iterable[int] = ()) -> bytes:
    return json.dumps({"online": online, "holds": sorted(holds)}).encode()


def read_presence(payload: bytes) -> tuple[bool, frozenset[int]]:
    """``(online, partitions held)`` of a worker's presence; ValueError if unreadable."""
    data = json.loads(payload)
    if not isinstance(data, dict) or not isinstance(data.get("online"), bool):
        raise ValueError("not a worker's presence")
    holds = data.get("holds", [])
    if not isinstance(holds, list) or not all(isinstance(p, int) for p in holds):
        raise ValueError("not a worker's presence")
    return data["online"], frozenset(p for p in holds if p in ALL)


def share_of(me: str, live: Iterable[str]) -> frozenset[int]:
    """The partitions that are ``me``'s when ``live`` (and ``me``) are the live workers."""
    members = sorted({*live, me})
    return frozenset(p for p in ALL if members[p % len(members)] == me)


@dataclass
class Membership:
    """One worker's view of the others, and what it holds (kept by paho's network thread)."""

    me: str
    others: dict[str, frozenset[int]] = field(default_factory=dict)  # live ones: what they hold
    holds: frozenset[int] = frozenset()  # subscribed, and confirmed by the broker
    maybe: frozenset[int] = ALL  # what the broker might still give us (an older session's)

    def seen(self, client_id: str, online: bool, holds: frozenset[int]) -> None:
        if client_id == self.me:
            return
        if online:
            self.others[client_id] = holds
        else:
            self.others.pop(client_id, None)

    def wanted(self) -> frozenset[int]:
        return share_of(self.me, self.others)

    def to_take(self) -> frozenset[int]:
        """Partitions to subscribe to: ours, not yet held."""
        return self.wanted() - self.holds

    def to_release(self) -> frozenset[int]:
        """Partitions to unsubscribe from: not ours, and announced by another live worker."""
        announced = frozenset().union(*self.others.values()) if self.others else frozenset()
        return ((self.holds | self.maybe) - self.wanted()) & announced

    def took(self, partitions: Iterable[int]) -> None:
        self.holds |= frozenset(partitions)

    def released(self, partitions: Iterable[int]) -> None:
        gone = frozenset(partitions)
        self.holds -= gone
        self.maybe -= gone

    def reconnected(self) -> None:
        """A new connection: nothing is confirmed yet, and an older session may still hold
        any partition."""
        self.holds = frozenset()
        self.maybe = ALL
