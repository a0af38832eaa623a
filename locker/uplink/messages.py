"""The messages between a station and its fleet hub, over an MQTT 5 broker.

Topics, for a station named ``S`` in partition ``P`` (its broker user may write only its own):

- ``lps/v2/P/S/evt``   station → hub, QoS 1: :class:`Event`, one per change, in ``seq`` order
- ``lps/v2/P/S/state`` station → hub, QoS 1, retained: :class:`Presence` (birth on connect;
  the broker publishes the station's will, ``online: false``, when it drops)
- ``lps/v2/P/S/snap``  station → hub, QoS 1: :class:`Snapshot`, on request or after a gap
- ``lps/v2/P/S/res``   station → hub, QoS 1: :class:`CommandResult`
- ``lps/v2/P/S/cmd``   hub → station, QoS 1: :class:`Command` (only the hub's user may write)

``P`` (``p00`` … ``p63``) is :func:`partition` of the station's name, fixed by the name alone:
it lets the hub's workers split the stations between them with MQTT's own topic filters
(``$share/<group>/lps/v2/p07/+/evt``, :mod:`fleet.partitions`), so that one station's
messages go to one worker and two workers' batches do not queue for the same stations'
rows. (``v1`` had no partition level.) Every payload is JSON (UTF-8) of the pydantic model
below. Nothing here carries a PIN or a QR token: pickup codes never leave the station by
this way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ROOT = "lps/v2"
SHARE_GROUP = "hub"
STATION_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")  # also the broker user: st-<name>
PARTITIONS = 64  # the topics' partition level: p00 … p63 (at most this many busy workers)
_PARTITION = re.compile(r"p[0-9]{2}")
Kind = Literal["evt", "state", "snap", "res", "cmd"]
UP: tuple[Kind, ...] = ("evt", "state", "snap", "res")  # what a station may write


def partition(station: str) -> int:
    """The station's partition: the first two bytes of its name's SHA-256, modulo
    :data:`PARTITIONS` (the same in every process and on every machine)."""
    digest = hashlib.sha256(station.encode()).digest()
    return int.from_bytes(digest[:2], "big") % PARTITIONS


def partition_level(number: int) -> str:
    if not 0 <= number < PARTITIONS:
        raise ValueError(f"no partition {number}")
    return f"p{number:02d}"


def topic(station: str, kind: Kind) -> str:
    return f"{ROOT}/{partition_level(partition(station))}/{station}/{kind}"


def every(kind: Kind, part: int | None = None) -> str:
    """The filter of every station's ``kind`` (in partition ``part`` only, if given)."""
    level = "+" if part is None else partition_level(part)
    return f"{ROOT}/{level}/+/{kind}"


def shared(kind: Kind, group: str = SHARE_GROUP, part: int | None = None) -> str:
    """What hub workers subscribe to: every station's ``kind`` (of partition ``part``, if
    given), shared between them.

    The hub gives its own ``group`` (``fleet.broker.new_share_group()``); the broker's
    dynamic-security roles refuse any station's subscription to it (SUBACK 0x87), so every
    member that takes a turn of the stations' messages is one of the hub's workers."""
    return f"$share/{group}/{every(kind, part)}"


def station_of(topic_name: str) -> tuple[str, str]:
    """``(station, kind)`` of a topic, or ValueError for a topic outside ours (also one
    whose partition level is not the station's)."""
    parts = topic_name.split("/")
    if (
        len(parts) != 5
        or "/".join(parts[:2]) != ROOT
        or not _PARTITION.fullmatch(parts[2])
        or not STATION_NAME.fullmatch(parts[3])
        or int(parts[2][1:]) != partition(parts[3])
    ):
        raise ValueError(f"not a station topic: {topic_name!r}")
    return parts[3], parts[4]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def payload(self) -> bytes:
        return self.model_dump_json().encode()


EventType = Literal[
    "parcel",  # a parcel's state (data: ParcelFacts fields)
    "door",  # a door operation's outcome (compartment_id, purpose, outcome)
    "alert.raised",  # kind, compartment_id, detail
    "alert.cleared",  # kind, compartment_id
    "compartment",  # compartment_id, size, state (free, occupied, reserved, out_of_service, …)
    "capacity",  # free: {size: count}; accessible_free: {size: count}
    "bus",  # health: {bus id: {counter: value}}
    "reminder",  # a recipient's reminder was written: ParcelFacts fields and "reminder"
    "cold",  # a cold group: group, kind, min_c, max_c, status, celsius (None: no answer),
    # compartments; on each change of status and every few minutes (the hub's chart)
    "paid",  # a parcel was paid: ParcelFacts fields, amount_cents, currency, method, paid_at
    "erased",  # a person's data was erased here: parcels [{id, tracking_number, carrier}]
]


class Event(_Message):
    """One change on the station, with a stable id and the station's own sequence number
    (1, 2, 3, … without gaps: a gap tells the hub it missed some)."""

    id: str = Field(min_length=32, max_length=32)  # uuid4 hex
    station: str
    seq: int = Field(ge=1)
    at: datetime
    type: EventType
    data: dict[str, Any]


class Presence(_Message):
    station: str
    online: bool
    at: datetime | None = None  # None in the will (the broker sends it, not the station)
    boot: str = ""  # one id per start of the station process
    last_seq: int = 0  # the newest event it has written (sent or not)
    layout: dict[str, Any] | None = None  # the front, for drawing it on the hub


class ParcelFacts(_Message):
    id: int
    tracking_number: str
    carrier: str
    state: str
    size: str
    compartment_id: int | None
    deadline: datetime | None
    accessible: bool = False
    amount_due: int = 0  # cents to pay at pick-up (issue 28); never a card or a secret
    paid_at: datetime | None = None  # in a snapshot: when it was paid (events: "paid")


class CompartmentFacts(_Message):
    id: int
    size: str
    state: str


class AlertFacts(_Message):
    kind: str
    compartment_id: int | None
    detail: str
    raised_at: datetime


class Snapshot(_Message):
    """The whole state the hub may know (no codes), as of event ``last_seq``."""

    station: str
    at: datetime
    last_seq: int
    compartments: list[CompartmentFacts]
    parcels: list[ParcelFacts]  # the live ones: announced, reserved, stored, expired
    alerts: list[AlertFacts]
    capacity: dict[str, int]
    bus: dict[str, dict[str, Any]] = Field(default_factory=dict)


CommandType = Literal[
    "announce",  # tracking_number, carrier, size, recipient_name, recipient_email?, …
    "extend",  # parcel_id or tracking_number, until
    "out_of_service",  # compartment_id, reason
    "back_in_service",  # compartment_id, note
    "revoke_courier",  # name
    "snapshot",  # no args
    "resend",  # from_seq: the events from there on again
    "grant_access",  # a hub operator may sign in here: locker.uplink.grants
    "revoke_access",  # grant_id: that grant ends
]


class Command(_Message):
    """An order from the hub. Never one that opens a door: there is no such type."""

    id: str = Field(min_length=8, max_length=64)
    station: str
    type: CommandType
    args: dict[str, Any] = Field(default_factory=dict)
    issued_at: datetime
    by: str = ""  # the hub account that gave it, for the station's audit log
    sig: str = ""  # HMAC-SHA256 (hex) of the rest, under the station's command key

    def signed(self, key: bytes) -> Command:
        return self.model_copy(update={"sig": command_signature(self, key)})

    def verify(self, key: bytes) -> bool:
        return hmac.compare_digest(self.sig, command_signature(self, key))


def command_signature(command: Command, key: bytes) -> str:
    body = command.model_dump(mode="json", exclude={"sig"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


class Problem(_Message):
    code: str
    detail: str


class CommandResult(_Message):
    """The station's answer to a command; a replayed command gets the first answer again."""

    command_id: str
    station: str
    ok: bool
    result: dict[str, Any] = Field(default_factory=dict)
    problem: Problem | None = None
    at: datetime
