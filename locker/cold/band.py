"""What a cold group's readings mean over time: pure, with the time given by the caller.

Each reading is in band, out of band, or missing (the thermometer did not answer). The
group's status follows from the readings since the last one in band:

* ``ok``: the newest reading is in band (one is enough to be back);
* ``out_of_band``: no reading in band for ``after`` (the first reading that was not
  in band is that old) and at least one answer out of band among them (a thermometer
  that answers "too warm", then falls silent, leaves the group out of band);
* ``silent``: no answer at all for ``after``. Silence is never "in band": it is a fault
  of its own, and it does not clear an out-of-band status either;
* ``unknown``: not read yet since the start, or not long enough to say.

Until ``after`` has passed, a group keeps the status it had (a short excursion, a door
opened for a minute, raises nothing). A fresh tracker may start from a status kept in
the database, so a restart neither forgets a closed group nor raises its alert again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from locker.cold.groups import Band


class ColdStatus(StrEnum):
    UNKNOWN = "unknown"
    OK = "ok"
    OUT_OF_BAND = "out_of_band"
    SILENT = "silent"

    @property
    def takes_parcels(self) -> bool:
        return self is ColdStatus.OK


@dataclass(frozen=True)
class Tracker:
    """The state of one group's readings; :meth:`feed` gives the next one."""

    band: Band
    after: timedelta
    status: ColdStatus = ColdStatus.UNKNOWN
    bad_since: datetime | None = None  # the first reading not in band since the last in band
    silent_since: datetime | None = None  # the first of the current run of no answers
    seen_out: bool = False  # an answer out of band since the last one in band
    last_c: float | None = None  # the newest answer (None: none yet, or the last was silent)

    def feed(self, at: datetime, celsius: float | None) -> Tracker:
        """The state after a reading at ``at`` (None: the thermometer did not answer)."""
        if celsius is not None and self.band.holds(celsius):
            return replace(
                self,
                status=ColdStatus.OK,
                bad_since=None,
                silent_since=None,
                seen_out=False,
                last_c=celsius,
            )
        bad_since = self.bad_since or at
        if celsius is None:
            silent_since = self.silent_since or at
            seen_out = self.seen_out
        else:
            silent_since, seen_out = None, True
        status = self.status
        if silent_since is not None and at - silent_since >= self.after:
            status = ColdStatus.SILENT
        elif seen_out and at - bad_since >= self.after:
            status = ColdStatus.OUT_OF_BAND
        return Tracker(
            band=self.band,
            after=self.after,
            status=status,
            bad_since=bad_since,
            silent_since=silent_since,
            seen_out=seen_out,
            last_c=celsius,
        )
