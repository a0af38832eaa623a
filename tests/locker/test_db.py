"""The SQLite file: migrations match the models, crash-safe pragmas, data survives reopening."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel, select

import locker.cold.tables  # noqa: F401  (the cold groups' rows)
import locker.payments.records  # noqa: F401  (payments)
import locker.store.tables  # noqa: F401  (the models under comparison)
from locker.store.db import Database, alembic_config, head_revision, revision_graph
from locker.store.tables import ApiToken, Compartment, Parcel
from locker.types import ParcelState
from tests.support import FakeClock


def test_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    db = Database(tmp_path / "station.db")
    db.upgrade()
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    db.close()
    assert diff == []


def test_the_quick_reading_of_the_migrations_is_alembics_own() -> None:
    """A start reads the revisions from the files' two header lines, without alembic."""
    scripts = ScriptDirectory.from_config(alembic_config())
    assert revision_graph() == {s.revision: s.down_revision for s in scripts.walk_revisions()}
    assert head_revision() == scripts.get_current_head()


def test_a_start_at_the_head_does_not_load_alembic(tmp_path: Path) -> None:
    db = Database(tmp_path / "station.db")
    db.upgrade()
    db.close()
    probe = (
        "import sys; from pathlib import Path; from locker.store.db import Database; "
        f"db = Database(Path({str(tmp_path / 'station.db')!r})); db.upgrade(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_upgrade_is_idempotent_and_records_its_revision(tmp_path: Path) -> None:
    db = Database(tmp_path / "station.db")
    assert db.current_revision() is None
    db.upgrade()
    db.upgrade()
    assert db.current_revision() == head_revision()
    db.close()


def test_the_migrations_live_with_the_store(tmp_path: Path) -> None:
    """Alembic finds the migrations where the package keeps them (locker/store/migrations),
    and the first one is the oldest of the chain."""
    location = Path(alembic_config().get_main_option("script_location") or "")
    assert location.parts[-3:] == ("locker", "store", "migrations")
    assert (location / "env.py").is_file()
    graph = revision_graph()
    assert [rev for rev, down in graph.items() if down is None] == ["0001"]


def test_a_database_made_by_the_oldest_migration_upgrades_to_the_head(tmp_path: Path) -> None:
    """A station's file from the first release keeps its rows and reaches today's schema
    through the same upgrade a start runs."""
    db = Database(tmp_path / "station.db")
    made = datetime(2026, 6, 1, 9, 0)
    with db.engine.connect() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.exec_driver_sql(
            "INSERT INTO compartment (id, condition, note, retired) VALUES (7, 'ok', 'old', 0)"
        )
        connection.exec_driver_sql(
            "INSERT INTO parcel (id, state, carrier, tracking_number, recipient_name,"
            " size, needs_accessible, needs_cooling, compartment_id, created_at, deadline)"
            " VALUES (1, 'stored', 'Parcel Co', 'OLD-1', 'Ada', 'M', 0, 0, 7, ?, ?)",
            (made, made + timedelta(days=7)),
        )
        connection.commit()
    assert db.current_revision() == "0001"
    db.upgrade()
    assert db.current_revision() == head_revision()
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    with db.read() as session:
        parcel = session.exec(select(Parcel)).one()
        compartment = session.get(Compartment, 7)
    db.close()
    assert diff == []
    assert (parcel.tracking_number, parcel.state, parcel.compartment_id) == (
        "OLD-1",
        ParcelState.STORED,
        7,
    )
    assert compartment is not None
    assert compartment.note == "old"


def test_tokens_from_before_expiry_end_ninety_days_after_they_were_issued(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "station.db")
    issued = datetime(2026, 11, 1, 8, 30)
    with db.engine.connect() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.exec_driver_sql(
            "INSERT INTO account (id, name, role, must_change_password, active, created_at)"
            " VALUES (1, 'kim', 'courier', 0, 1, ?)",
            (issued,),
        )
        connection.exec_driver_sql(
            "INSERT INTO api_token (account_id, token_hash, label, created_at)"
            " VALUES (1, 'h', 'old', ?)",
            (issued,),
        )
        connection.commit()
    db.upgrade()
    with db.read() as session:
        token = session.exec(select(ApiToken)).one()
    db.close()
    assert token.expires_at == (issued + timedelta(days=90)).replace(tzinfo=UTC)


def test_pragmas_for_crash_safety(tmp_path: Path) -> None:
    db = Database(tmp_path / "station.db")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.close()


def test_database_refuses_two_active_parcels_in_one_compartment(tmp_path: Path) -> None:
    db = Database(tmp_path / "station.db")
    db.upgrade()
    now = FakeClock().now
    with db.write() as session:
        session.add(Compartment(id=1))
    common = {"carrier": "x", "tracking_number": "t", "recipient_name": "r", "created_at": now}
    with db.write() as session:
        session.add(Parcel(state=ParcelState.STORED, compartment_id=1, **common))
    with pytest.raises(sa.exc.IntegrityError), db.write() as session:
        session.add(Parcel(state=ParcelState.RESERVED, compartment_id=1, **common))
    with db.write() as session:  # a finished parcel may still name its old compartment
        session.add(Parcel(state=ParcelState.COLLECTED, compartment_id=1, **common))
    db.close()


def test_committed_rows_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "station.db"
    db = Database(path)
    db.upgrade()
    with db.write() as session:
        session.add(Compartment(id=5, note="kept"))
    db.close()
    again = Database(path)
    with again.read() as session:
        row = session.get(Compartment, 5)
        assert row is not None
        assert row.note == "kept"
    again.close()


def test_naive_datetimes_are_refused(tmp_path: Path) -> None:
    from datetime import datetime

    db = Database(tmp_path / "station.db")
    db.upgrade()
    with pytest.raises(sa.exc.StatementError, match="naive"), db.write() as session:
        session.add(
            Parcel(
                state=ParcelState.ANNOUNCED,
                carrier="x",
                tracking_number="t",
                recipient_name="r",
                created_at=datetime(2026, 1, 1),  # noqa: DTZ001
            )
        )
    db.close()
