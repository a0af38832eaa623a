"""A station's encrypted backups at the hub, for real: the hub served over HTTPS (uvicorn,
a CA made in the test) on a real PostgreSQL, the station's backup job sending its sealed
backup in chunks, signed in with its broker user and password; operators list them, an
admin downloads one, the hub keeps the newest few and holds nothing it could read; and the
file it gives back restores the station with the shop's backup key."""

from __future__ import annotations

import secrets
import ssl
from pathlib import Path

import pytest

from api.hub_backup import HubBackupSender
from fleet import registry
from fleet import station_backups as hub_side
from fleet.db import HubDatabase
from fleet.pki import Authority
from fleet.settings import HubSettings
from locker.runtime.settings import Settings
from locker.store import offsite
from locker.store.backups import BackupSchedule
from tests.db_damage import seeded_station
from tests.fleet.engines import PgDatabase
from tests.fleet.hub.live_hub import live_hub
from tests.support import FakeClock


def _station_settings(data_dir: Path, hub_url: str, ca: Path, password: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        hub_station="c",
        mqtt_host="127.0.0.1",
        mqtt_user="st-c",
        mqtt_password=password,
        hub_command_key=secrets.token_hex(32),
        hub_backups=True,
        hub_url=hub_url,
        hub_ca_file=ca,
        backup_keep=5,
        _env_file=None,  # type: ignore[call-arg]
    )


def test_a_station_sends_its_sealed_backups_and_the_hub_keeps_the_newest(
    tmp_path: Path, pg_database: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_side, "CHUNK_BYTES", 8192)  # several chunks from a small station
    seeded = seeded_station(tmp_path / "var")
    ca = Authority("test hub CA")
    server = ca.issue(tmp_path / "tls", "hub", ("127.0.0.1",))
    ca_file = ca.write_ca(tmp_path / "ca.pem")
    db = HubDatabase(pg_database.url)
    db.upgrade()
    try:
        creds = registry.add_station(db, "c", FakeClock().now)
        settings = HubSettings(station_backups_keep=2, _env_file=None)  # type: ignore[call-arg]
        with live_hub(
            db, settings, ssl_certfile=str(server.cert), ssl_keyfile=str(server.key)
        ) as hub:
            hub.verify = ssl.create_default_context(cafile=str(ca_file))
            assert hub.base_url.startswith("https://")
            station = _station_settings(
                seeded.settings.data_dir, hub.base_url, ca_file, creds.broker_password
            )
            clock = FakeClock()
            schedule = BackupSchedule(
                station.database_path, station.key_path, station.backups(), clock
            )
            schedule.senders.append(HubBackupSender(station))
            made = []
            for _ in range(3):
                made.append(schedule.run())
                clock.advance(days=1)

            operator = hub.token("olga")
            with hub.client() as http:
                listed = http.get("/api/v1/stations/c/backups", headers=operator)
                assert listed.status_code == 200, listed.text
                kept = listed.json()
                assert [b["name"] for b in kept] == [
                    m.path.name + ".lpsbak" for m in reversed(made[-2:])
                ]  # newest first, the oldest pruned
                assert http.get("/api/v1/stations/a/backups", headers=operator).json() == []
                newest = kept[0]
                url = f"/api/v1/stations/c/backups/{newest['id']}"
                refused = http.get(url, headers=operator)  # an operator lists, an admin takes
                assert refused.status_code == 403
                assert refused.json()["code"] == "forbidden"
                got = http.get(url, headers=hub.token("ada"))
                assert got.status_code == 200, got.text
                sealed = got.content
                assert len(sealed) == newest["size"] > 3 * 8192

                # signed in as another station, or with a wrong password: nothing of c's
                user_a = {"auth": ("st-a", "not a's password")}
                wrong = http.post(f"/api/v1/station/backups/{newest['id']}/complete", **user_a)
                assert wrong.status_code == 401
                assert wrong.json()["code"] == "not_authenticated"

            # the hub holds only what it cannot read: no page of the database, no name
            database = made[-1].path.read_bytes()
            with db.engine.connect() as connection:
                stored = b"".join(
                    bytes(row[0])
                    for row in connection.exec_driver_sql("SELECT data FROM station_backup_chunks")
                )
            for plain in (
                database[4096:4300],
                b"Recipient 0",
                seeded.settings.key_path.read_bytes(),
            ):
                assert plain not in stored
            copy = tmp_path / newest["name"]
            copy.write_bytes(sealed)
            key = station.backup_key_path.read_bytes()
            opened = offsite.open_copy(copy, key, tmp_path)
            assert opened.database.read_bytes() == database
            with pytest.raises(offsite.CopyUnreadable, match="another backup key"):
                offsite.open_copy(copy, secrets.token_bytes(32), tmp_path)
        hub_url = hub.base_url
    finally:
        db.close()

    # the hub is gone: the backup is made, and the job is told why the hub did not get it
    schedule = BackupSchedule(station.database_path, station.key_path, station.backups(), clock)
    schedule.senders.append(HubBackupSender(station))
    with pytest.raises(offsite.CopyFailed) as failed:
        schedule.run()
    assert failed.value.made.path.exists()
    assert f"not sent to the hub {hub_url}" in failed.value.reason


def test_a_chunk_of_the_wrong_size_or_a_backup_not_whole_is_refused(
    pg_database: PgDatabase,
) -> None:
    db = HubDatabase(pg_database.url)
    db.upgrade()
    try:
        creds = registry.add_station(db, "c", FakeClock().now)
        auth = (creds.broker_user, creds.broker_password)
        with live_hub(db) as hub, hub.client() as http:
            body = {"name": "station-20261101T090000Z.db.lpsbak", "size": 10, "sha256": "0" * 64}
            started = http.post("/api/v1/station/backups", json=body, auth=auth)
            assert started.status_code == 201, started.text
            backup = started.json()["id"]
            chunk = "/api/v1/station/backup-chunk"
            short = http.put(
                chunk, params={"backup": backup, "index": 0}, content=b"123", auth=auth
            )
            assert short.status_code == 422
            assert short.json()["code"] == "backup_refused"
            assert "must have 10 bytes, not 3" in short.json()["detail"]
            whole = http.put(
                chunk, params={"backup": backup, "index": 0}, content=b"0123456789", auth=auth
            )
            assert whole.status_code == 204
            done = http.post(f"/api/v1/station/backups/{backup}/complete", auth=auth)
            assert done.status_code == 422  # its SHA-256 is not the declared one
            assert "not whole" in done.json()["detail"]
            other = registry.add_station(db, "d", FakeClock().now)
            theirs = http.post(
                f"/api/v1/station/backups/{backup}/complete",
                auth=(other.broker_user, other.broker_password),
            )
            assert theirs.status_code == 404  # another station's upload is not found
            assert theirs.json()["code"] == "backup_not_found"
            too_big = {**body, "size": 10 * 1024 * 1024 * 1024}
            refused = http.post("/api/v1/station/backups", json=too_big, auth=auth)
            assert refused.status_code == 422
            assert refused.json()["code"] == "backup_refused"
            assert http.get("/api/v1/stations/c/backups", headers=hub.token("olga")).json() == []
    finally:
        db.close()


def test_the_station_refuses_to_send_its_password_in_clear_to_another_machine() -> None:
    with pytest.raises(ValueError, match="LOCKER_HUB_URL must be https://"):
        _station_settings(Path("var"), "http://hub.example.org:8100", Path("ca.pem"), "pw")
    loopback = _station_settings(Path("var"), "http://127.0.0.1:8100", Path("ca.pem"), "pw")
    assert loopback.hub_backups
