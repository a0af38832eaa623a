"""The backup job of a serving station: one at start, then one a day by the station's
clock, keeping the newest LOCKER_BACKUP_KEEP; the station serves throughout."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from api.background import jobs
from locker.backups import backups, key_beside, stamp
from locker.db import head_revision
from locker.db_check import check_database
from tests.api.live import live_station, wait_until


def test_the_job_backs_up_at_start_then_daily_and_rotates(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "backups"
    with live_station(tmp_path, background=True, backup_keep=2) as live:
        wait_until(lambda: len(backups(folder)) == 1)  # the running job's first round
        start = live.clock.now
        # The same job, called by hand while the clock moves (the running one waits a
        # minute between rounds and finds nothing due either).
        [back_up] = [job for _, job in jobs(live.ctx) if job.__name__ == "back_up"]
        back_up()
        assert len(backups(folder)) == 1  # not due again
        for _ in range(3):
            live.clock.advance(hours=24)
            back_up()
            with live.client(None) as anyone:  # the station serves beside the job
                assert anyone.get("/healthz").status_code == 200
        key = live.ctx.settings.key_path.read_bytes()
    kept = backups(folder)
    assert [p.name for p in kept] == [
        f"station-{stamp(start + timedelta(days=d))}.db" for d in (2, 3)
    ]
    for path in kept:
        assert check_database(path, thorough=True).revision == head_revision()
        assert key_beside(path).read_bytes() == key
    assert len(list(folder.iterdir())) == 4  # two backups, two keys
