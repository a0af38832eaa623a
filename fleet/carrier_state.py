"""An announcement's one state as its carrier reads it (the carrier API's ``state``), and
what goes beside it: a sentence for a person (``detail``), since when, the compartment
and the deadline where there is one. Made of the station's answer to the announce command
and of the newest parcel state the station reported (:mod:`fleet.carrier_stream` keeps it
on the announcement, with the time of the event that made it).

- ``sent_to_station``: the hub sent it; the station has not answered yet (an offline one
  gets it when it is back);
- ``refused``: the station refused it (``problem``: its code and reason); the tracking
  number may be announced again;
- ``announced``: the station expects it; a courier may bring it in (also while one is
  putting it into a compartment: ``compartment`` then names it);
- ``in_locker``: in ``compartment``, for its recipient to collect by ``deadline``;
- ``waiting_for_courier``: not collected by its deadline; in ``compartment`` until a
  courier takes it back;
- ``collected``: its recipient took it;
- ``returned``: a courier took it back;
- ``lapsed``: no courier brought it in before the station's announcement expired; the
  station no longer expects it and the tracking number may be announced again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from fleet.tables import CarrierAnnouncement, CommandRow, ParcelView

CarrierState = Literal[
    "sent_to_station",
    "refused",
    "announced",
    "in_locker",
    "waiting_for_courier",
    "collected",
    "returned",
    "lapsed",
]
CARRIER_STATES: tuple[str, ...] = get_args(CarrierState)

# The station's parcel states as a carrier reads them (a compartment held for a deposit
# is still "announced": the door may not open, and it is announced again).
OF_PARCEL: dict[str, CarrierState] = {
    "announced": "announced",
    "reserved": "announced",
    "stored": "in_locker",
    "expired": "waiting_for_courier",
    "collected": "collected",
    "returned": "returned",
    "lapsed": "lapsed",
}


@dataclass(frozen=True)
class Seen:
    state: CarrierState
    detail: str
    since: datetime
    compartment: int | None = None
    deadline: datetime | None = None


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def seen(row: CarrierAnnouncement, command: CommandRow, view: ParcelView | None) -> Seen:
    """The announcement ``row`` as its carrier reads it; ``view`` is the hub's view of its
    parcel while the parcel is live at the station (None once it is gone)."""
    at = f"station {row.station}"
    answered = command.answered_at or row.announced_at
    if command.state == "refused":
        reason = command.problem_detail or command.problem_code or "no reason given"
        detail = f"{at.capitalize()} refused it: {reason}. It may be announced again."
        return Seen("refused", detail, answered)
    if row.parcel_state is None and command.state != "ok":
        return Seen(
            "sent_to_station",
            f"Sent to {at}, which has not answered yet (if it is offline, it gets it when "
            "it is back).",
            row.announced_at,
        )
    state = OF_PARCEL.get(row.parcel_state or "announced", "announced")
    since = row.parcel_since or answered
    live = view if view is not None and OF_PARCEL.get(view.state) == state else None
    box = live.compartment_id if live is not None else None
    deadline = live.deadline if live is not None else None
    where = f"compartment {box} at {at}" if box is not None else at
    if state == "announced":
        if box is not None:
            detail = f"A courier is putting it into {where}."
        else:
            detail = f"{at.capitalize()} expects it; a courier may bring it in."
        return Seen(state, detail, answered if command.state == "ok" else since, box)
    detail = {
        "in_locker": f"In {where}, for its recipient to collect"
        + (f" by {_when(deadline)}." if deadline is not None else "."),
        "waiting_for_courier": f"Not collected by its deadline: in {where}, until a courier "
        "takes it back.",
        "collected": f"Collected by its recipient at {at}.",
        "returned": f"Taken back by a courier from {at}.",
        "lapsed": f"No courier brought it in at {at} before the announcement expired; the "
        "station no longer expects it. The tracking number may be announced again.",
    }[state]
    return Seen(state, detail, since, box, deadline)
