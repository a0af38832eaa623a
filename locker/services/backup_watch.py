"""The station's regular backups as staff see them: a backup that fails raises a
``backup_failed`` alert (staff hear of it at once, by mail and the shop's webhook), the
next good one clears it; and when the last good backup was taken, for the health
endpoint and the maintenance screen.

While the alert is open a backup is tried again, due or not, after a wait that doubles
from a minute up to an hour (a full disk is not filled again with a whole copy every
minute), so a mended folder clears it soon. The last good backup is the newest complete
backup in the folder (a file under a backup's name is always a complete, checked one, see
:mod:`locker.store.backups`), or the last this process wrote if the folder cannot be read
(a stick pulled out, a file where the folder should be).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from locker.alerts import clear_alerts, open_alerts, raise_alert
from locker.station import Station
from locker.store.backups import Backup, BackupSchedule, backups, taken_at
from locker.store.offsite import CopyFailed
from locker.types import AlertKind

_LOGGER = logging.getLogger(__name__)
RETRY_FIRST = timedelta(minutes=1)  # the wait after a failed backup, doubled each time
RETRY_MAX = timedelta(hours=1)


@dataclass
class BackupWatch:
    station: Station
    schedule: BackupSchedule
    _failing: bool | None = None  # None: not known yet (the open alerts tell)
    _made: datetime | None = None  # the last good backup this process wrote
    _failures: int = 0  # in a row, in this process
    _retry_at: datetime | None = None
    _uncopied: Backup | None = None  # made, but its copy off the card failed

    def tick(self) -> Backup | None:
        """Back up if due (or if the last one failed); the backup made, if any."""
        if self._failing is None:
            with self.station.db.read() as session:
                self._failing = any(a.kind is AlertKind.BACKUP_FAILED for a in open_alerts(session))
        if self._failing and self._retry_at is not None and self.station.now() < self._retry_at:
            return None
        uncopied = self._uncopied
        try:
            if uncopied is not None and not self.schedule.due():
                self.schedule.copy(uncopied)  # only the copy is tried again
                made: Backup | None = uncopied
            elif self._failing:
                made = self.schedule.run()
            else:
                made = self.schedule.run_if_due()
        except CopyFailed as exc:  # the local backup is made: only the copy is missing
            self._made = exc.made.taken_at
            self._uncopied = exc.made
            self._failed(exc.reason)
            return exc.made
        except Exception as exc:  # whatever stopped it, staff must hear of it
            self._failed(f"the database could not be backed up: {exc}")
            return None
        self._uncopied = None
        if made is not None:
            self._made = made.taken_at
            if self._failing:
                with self.station.db.write() as session:
                    clear_alerts(
                        session,
                        AlertKind.BACKUP_FAILED,
                        compartment_id=None,
                        now=self.station.now(),
                    )
            self._failing = False
            self._failures = 0
            self._retry_at = None
        return made

    def _failed(self, detail: str) -> None:
        self._failures += 1
        wait = min(RETRY_MAX, RETRY_FIRST * 2 ** min(self._failures - 1, 10))
        self._retry_at = self.station.now() + wait
        _LOGGER.error("backup failed (tried again in %s): %s", wait, detail)
        with self.station.db.write() as session:
            raise_alert(
                session,
                AlertKind.BACKUP_FAILED,
                compartment_id=None,
                now=self.station.now(),
                detail=detail,
            )
        self._failing = True

    def last_good(self) -> datetime | None:
        """When the last good backup was taken; None if there is none."""
        try:
            found = backups(self.schedule.policy.folder)
            newest = taken_at(found[-1]) if found else None
        except OSError:  # the folder cannot be read
            newest = None
        return max((t for t in (newest, self._made) if t is not None), default=None)
