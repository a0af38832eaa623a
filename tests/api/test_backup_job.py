"""The backup job of a serving station: one at start, then one a day by the station's
clock, keeping the newest LOCKER_BACKUP_KEEP; the station serves throughout. A backup
that fails alerts staff (cleared by the next good one), and the health endpoint and
screen show the last good backup's time and age."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from api.background import jobs
from locker.store.backups import backups, key_beside, stamp
from locker.store.check import check_database
from locker.store.db import head_revision
from tests.api.http_helpers import API, ok
from tests.api.live import LiveStation, live_station, wait_until
from tests.api.test_screen_roles import screen_browser
from tests.mail_support import smtp_server, text_of


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


def test_a_failed_backup_alerts_staff_and_the_health_shows_the_last_good_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="locker.services.backup_watch")
    folder = tmp_path / "var" / "backups"
    folder.parent.mkdir(parents=True)
    folder.write_text("a file where the backup folder should be")
    with smtp_server() as server:
        settings = {"smtp_host": "127.0.0.1", "smtp_port": server.port, "staff_email": STAFF}
        with live_station(tmp_path, background=False, **settings) as live:
            never = {"state": "never", "last_good_at": None, "age_s": None}
            assert _health(live)["backup"] == never
            [back_up] = [job for _, job in jobs(live.ctx) if job.__name__ == "back_up"]

            back_up()  # the job's round: it cannot write into a file
            live.clock.advance(minutes=1)
            back_up()  # nor a minute later: still one alert
            assert "tried again in 0:02:00" in _log(caplog)  # then it waits longer
            live.clock.advance(minutes=1)
            back_up()  # not yet tried again
            assert _log(caplog).count("backup failed") == 2
            [alert] = _alerts(live)
            assert alert["kind"] == "backup_failed"
            assert alert["compartment_id"] is None
            assert str(folder) in alert["detail"]
            health = _health(live)
            assert health["status"] == "degraded"
            assert health["backup"] == {"state": "failing", "last_good_at": None, "age_s": None}
            page = _health_screen(live)
            assert 'data-backup-state="failing"' in page
            assert "Last good backup: never." in page
            assert 'data-alert-kind="backup_failed"' in page
            live.ctx.notifier.run_once()  # staff hear of it at once
            [mail] = server.mailbox.to(STAFF)
            assert mail["Subject"] == "[Test station] backup failed: Test station"
            assert "could not be backed up" in text_of(mail)

            folder.unlink()  # mended: the next try backs up and clears the alert
            live.clock.advance(minutes=1)
            good_at = live.clock.now
            back_up()
            assert [p.name for p in backups(folder)] == [f"station-{stamp(good_at)}.db"]
            assert _alerts(live) == []
            health = _health(live)
            assert health["status"] == "ok"
            assert health["backup"] == {
                "state": "ok",
                "last_good_at": good_at.isoformat().replace("+00:00", "Z"),
                "age_s": 0,
            }

            live.clock.advance(hours=25, minutes=3)
            assert _health(live)["backup"]["age_s"] == (25 * 60 + 3) * 60
            page = _health_screen(live)
            assert 'data-backup-state="ok"' in page
            assert f"Last good backup: {good_at:%Y-%m-%d %H:%M} UTC, 1 d 1 h ago." in page

            # the folder is gone again (a stick pulled out): the station still knows
            # the last good backup it made, and how old it is
            folder.rename(tmp_path / "elsewhere")
            folder.write_text("a file again")
            back_up()
            [alert] = _alerts(live)
            assert alert["kind"] == "backup_failed"
            assert _health(live)["backup"] == {
                "state": "failing",
                "last_good_at": good_at.isoformat().replace("+00:00", "Z"),
                "age_s": (25 * 60 + 3) * 60,
            }


STAFF = "staff@example.org"


def _log(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


def _health(live: LiveStation) -> dict[str, Any]:
    with live.client(None) as anyone:
        answer = anyone.get("/healthz")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def _alerts(live: LiveStation) -> list[dict[str, Any]]:
    with live.client("staff") as staff:
        found: list[dict[str, Any]] = ok(staff.get(f"{API}/alerts"))
    return found


def _health_screen(live: LiveStation) -> str:
    browser = screen_browser(live, "staff")
    try:
        page = browser.get("/staff/health")
    finally:
        browser.close()
    assert page.status_code == 200
    return page.text
