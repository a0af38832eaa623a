"""Upgrades: a station's database made at every earlier schema revision, with data, upgrades
to the newest on start, keeps its data, and the station works on it; a database newer than
the code is refused with both revisions named and nothing changed.

The chain is built once for the module, as a station that lived through every release
would have its file: migrated to the first revision, rows written for that revision's
tables with plain SQL (as that version wrote them, not through today's models), migrated to
the next, more rows, and so on; the file is kept at each revision. Each case copies the file
of one revision beside its code key and opens the station as ``locker serve`` does
(:func:`open_station`: the check, the backup made before the upgrade, the migrations, the
layout), then reads every row back and collects the stored parcel with its PIN."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import locker.cold.tables  # noqa: F401  (the cold groups' rows, for the comparison)
import locker.payments.records  # noqa: F401  (payments)
import locker.store.tables  # noqa: F401
from locker.codes import CodeHasher, load_or_create_key
from locker.layout import demo_layout
from locker.runtime.startup import open_database, open_station
from locker.services import pickup
from locker.store.advice import refusal
from locker.store.backups import backups, key_beside
from locker.store.check import EXIT_INCOMPATIBLE, DatabaseTooNew, check_database
from locker.store.db import Database, head_revision, revision_graph
from locker.testkit.memory_locks import InMemoryLocks
from tests.db_damage import station_settings
from tests.support import FakeClock

PIN = "4711081547"
T = "2026-10-30 08:00:00.000000"  # as SQLAlchemy's DateTime writes it in SQLite
LATER = "2026-11-06 08:00:00.000000"
Rows = list[tuple[Any, ...]]
Seed = Callable[[sqlite3.Connection, CodeHasher], None]


def in_order() -> list[str]:
    """The revisions oldest first."""
    graph = revision_graph()
    order = [next(rev for rev, down in graph.items() if down is None)]
    following = {down: rev for rev, down in graph.items()}
    while order[-1] in following:
        order.append(following[order[-1]])
    return order


def seed_0001(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.executemany(
        "INSERT INTO compartment (id, condition, note, retired) VALUES (?, ?, ?, 0)",
        [(1, "ok", ""), (2, "ok", ""), (3, "out_of_service", "hinge loose"), (4, "ok", "")],
    )
    sql.execute(
        "INSERT INTO pickup_code (id, pin_hash, qr_hash, created_at, expires_at)"
        " VALUES (1, ?, ?, ?, ?)",
        (hasher.pin(PIN), hasher.qr("qr-token-of-old"), T, LATER),
    )
    sql.execute(
        "INSERT INTO parcel (id, state, carrier, tracking_number, recipient_name,"
        " recipient_email, size, needs_accessible, needs_cooling, compartment_id, code_id,"
        " courier, created_at, stored_at, deadline)"
        " VALUES (1, 'stored', 'Parcel Co', 'OLD-1', 'Ada', 'ada@example.org', 'S', 0, 0,"
        " 2, 1, 'kim', ?, ?, ?)",
        (T, T, LATER),
    )
    sql.execute(
        "INSERT INTO parcel (id, state, carrier, tracking_number, recipient_name, size,"
        " needs_accessible, needs_cooling, created_at, finished_at)"
        " VALUES (2, 'collected', 'Parcel Co', 'OLD-2', 'Bo', 'M', 0, 0, ?, ?)",
        (T, T),
    )
    sql.execute(
        "INSERT INTO door_op (compartment_id, purpose, parcel_ids, actor, reason, created_at,"
        " outcome, finished_at) VALUES (2, 'deposit', '1', 'courier', '', ?, 'opened', ?)",
        (T, T),
    )
    sql.execute(
        "INSERT INTO audit (at, actor, action, compartment_id, parcel_id, detail)"
        " VALUES (?, 'courier', 'parcel.stored', 2, 1, 'old release')",
        (T,),
    )
    sql.execute(
        "INSERT INTO attempt_counter (scope, consecutive, window_failures) VALUES ('kiosk', 1, 1)"
    )


def seed_0002(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.execute(
        "INSERT INTO account (id, name, role, password_hash, must_change_password, active,"
        " created_at) VALUES (1, 'kim', 'staff', '$argon2id$old', 0, 1, ?)",
        (T,),
    )
    sql.execute(
        "INSERT INTO api_token (id, account_id, token_hash, label, created_at)"
        " VALUES (1, 1, ?, 'scanner', ?)",
        (hasher.secret("token", "old-token"), T),
    )
    sql.execute(
        "INSERT INTO alert (kind, compartment_id, detail, raised_at)"
        " VALUES ('door_left_open', 1, 'door 1 open', ?)",
        (T,),
    )


def seed_0003(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.execute(
        "INSERT INTO api_token (id, account_id, token_hash, label, created_at, expires_at)"
        " VALUES (2, 1, ?, 'tablet', ?, ?)",
        (hasher.secret("token", "newer-token"), T, LATER),
    )


def seed_0004(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.execute(
        "INSERT INTO parcel (id, state, carrier, tracking_number, recipient_name, size,"
        " needs_accessible, needs_cooling, compartment_id, created_at, deadline,"
        " door_unconfirmed) VALUES (3, 'expired', 'Parcel Co', 'OLD-3', 'Cy', 'S', 0, 0,"
        " 4, ?, ?, 1)",
        (T, T),
    )


def seed_0005(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.execute(
        "INSERT INTO carrier (name, webhook_url, secret_version) VALUES ('Parcel Co', '', 1)"
    )
    sql.execute(
        "INSERT INTO outbox_event (id, at, event, key, parcel_id, detail, expanded)"
        " VALUES (1, ?, 'parcel.stored', 'stored-1', 1, '{}', 1)",
        (T,),
    )
    sql.execute(
        "INSERT INTO delivery (event_id, channel, recipient, dedup_key, state, attempts,"
        " next_attempt_at, last_error, sent_at)"
        " VALUES (1, 'email', 'ada@example.org', 'd-1', 'sent', 1, ?, '', ?)",
        (T, T),
    )
    sql.execute(
        "INSERT INTO return_code (pin_hash, carrier, reference, size, created_by, created_at,"
        " expires_at) VALUES (?, 'Parcel Co', 'RET-1', 'M', 'staff', ?, ?)",
        (hasher.pin("5550001112"), T, LATER),
    )


def seed_0006(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.execute(
        "INSERT INTO kiosk_device (name, token_hash, paired_by, paired_at)"
        " VALUES ('front', ?, 'kim', ?)",
        (hasher.secret("kiosk", "device-token"), T),
    )


def seed_0007(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.execute("UPDATE outbox_event SET hub_seq = 1, uid = ? WHERE id = 1", ("a" * 32,))
    sql.execute("INSERT INTO uplink_state (id, acked_seq) VALUES (1, 1)")
    sql.execute(
        "INSERT INTO hub_command (id, type, received_at, result) VALUES ('cmd-1', 'announce',"
        " ?, 'ok')",
        (T,),
    )


def seed_0008(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.execute(
        "INSERT INTO recipient (id, name, unit, email, language, needs_accessible, notify_by,"
        " staff_note, created_at, updated_at)"
        " VALUES (1, 'Ada', '4.01', 'ada@example.org', 'de', 0, 'email', '', ?, ?)",
        (T, T),
    )
    sql.execute("UPDATE parcel SET recipient_id = 1 WHERE id = 1")


def seed_0009(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.execute("UPDATE parcel SET notify_by = 'email' WHERE id = 1")


def seed_0010(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.execute("UPDATE parcel SET hold_days = 2, held_until = ? WHERE id = 1", (LATER,))
    sql.execute("UPDATE parcel SET erased_at = ?, recipient_name = 'erased' WHERE id = 2", (T,))


def seed_0013(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.execute(
        "INSERT INTO central_grant (id, operator, role, received_at) VALUES ('g-1', 'olga',"
        " 'staff', ?)",
        (T,),
    )
    sql.execute(
        "INSERT INTO central_used_pass (nonce, grant_id, used_at) VALUES ('n-1', 'g-1', ?)", (T,)
    )


def seed_0014(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.execute(
        'INSERT INTO cold_group_state ("group", status, since, closed, last_c, last_at)'
        " VALUES ('fridge', 'ok', ?, 0, 4.5, ?)",
        (T, T),
    )
    sql.execute(
        'INSERT INTO cold_reading ("group", minute, mean_c, min_c, max_c, answers, silences)'
        " VALUES ('fridge', ?, 4.5, 4.0, 5.0, 6, 0)",
        (T,),
    )


def seed_0015(sql: sqlite3.Connection, hasher: CodeHasher) -> None:
    sql.execute("UPDATE parcel SET amount_due_cents = 0 WHERE id = 1")
    # ghosts 0016 lapses: 6 (its number is parcel 3, live) and 4 (an older twin of 5)
    sql.executemany(
        "INSERT INTO parcel (id, state, carrier, tracking_number, recipient_name, size,"
        " needs_accessible, needs_cooling, created_at) VALUES (?, 'announced', 'Parcel Co',"
        " ?, 'Di', 'S', 0, 0, ?)",
        [(4, "TWICE-1", T), (5, "TWICE-1", T), (6, "OLD-3", T)],
    )


def seed_0016(sql: sqlite3.Connection, hasher: CodeHasher) -> None:  # lapsed, announced again
    sql.executemany(
        "INSERT INTO parcel (id, state, carrier, tracking_number, recipient_name, size,"
        " needs_accessible, needs_cooling, created_at) VALUES (?, ?, 'Parcel Co', 'AGAIN-1',"
        " 'Ed', 'S', 0, 0, ?)",
        [(7, "lapsed", T), (8, "announced", T)],
    )


SEEDS: dict[str, Seed] = {
    name.removeprefix("seed_"): fn for name, fn in globals().items() if name.startswith("seed_")
}

# What must be there after the upgrade, for each revision's rows: (query, rows).
KEPT: dict[str, list[tuple[str, Rows]]] = {
    "0001": [
        (
            "SELECT id, condition, note FROM compartment WHERE id <= 4 ORDER BY id",
            [(1, "ok", ""), (2, "ok", ""), (3, "out_of_service", "hinge loose"), (4, "ok", "")],
        ),
        (
            "SELECT id, state, tracking_number, compartment_id, code_id FROM parcel WHERE id <= 2"
            " ORDER BY id",
            [(1, "stored", "OLD-1", 2, 1), (2, "collected", "OLD-2", None, None)],
        ),
        ("SELECT code_id, parcel_id FROM code_parcel", [(1, 1)]),
        ("SELECT outcome FROM door_op", [("opened",)]),
        ("SELECT detail FROM audit WHERE action = 'parcel.stored'", [("old release",)]),
        ("SELECT consecutive FROM attempt_counter WHERE scope = 'kiosk'", [(1,)]),
    ],
    "0002": [
        ("SELECT name, role FROM account", [("kim", "staff")]),
        ("SELECT label, expires_at IS NOT NULL FROM api_token WHERE id = 1", [("scanner", 1)]),
        (
            "SELECT kind, compartment_id, cleared_at FROM alert WHERE kind = 'door_left_open'",
            [("door_left_open", 1, None)],
        ),
    ],
    "0003": [("SELECT label, expires_at FROM api_token WHERE id = 2", [("tablet", LATER)])],
    "0004": [("SELECT state, door_unconfirmed FROM parcel WHERE id = 3", [("expired", 1)])],
    "0005": [
        ("SELECT name FROM carrier", [("Parcel Co",)]),
        ("SELECT state, recipient FROM delivery", [("sent", "ada@example.org")]),
        ("SELECT reference, used_at FROM return_code", [("RET-1", None)]),
        ("SELECT kind, recipient_language FROM parcel WHERE id = 1", [("delivery", "en")]),
    ],
    "0006": [("SELECT name, paired_by FROM kiosk_device", [("front", "kim")])],
    "0007": [
        ("SELECT hub_seq FROM outbox_event WHERE id = 1", [(1,)]),
        ("SELECT acked_seq FROM uplink_state", [(1,)]),
        ("SELECT result FROM hub_command", [("ok",)]),
    ],
    "0008": [
        (
            "SELECT p.recipient_id, r.unit FROM parcel p JOIN recipient r ON r.id = p.recipient_id",
            [(1, "4.01")],
        )
    ],
    "0009": [("SELECT notify_by FROM parcel WHERE id = 1", [("email",)])],
    "0010": [
        ("SELECT hold_days FROM parcel WHERE id = 1", [(2,)]),
        ("SELECT recipient_name, erased_at FROM parcel WHERE id = 2", [("erased", T)]),
    ],
    "0013": [("SELECT operator, role FROM central_grant", [("olga", "staff")])],
    "0014": [
        ("SELECT status, last_c FROM cold_group_state", [("ok", 4.5)]),
        ("SELECT answers FROM cold_reading", [(6,)]),
    ],
    "0015": [
        ("SELECT amount_due_cents, currency FROM parcel WHERE id = 1", [(0, "EUR")]),
        (
            "SELECT id, state, finished_at IS NOT NULL FROM parcel WHERE id BETWEEN 3 AND 6"
            " ORDER BY id",
            [(3, "expired", 0), (4, "lapsed", 1), (5, "announced", 0), (6, "lapsed", 1)],
        ),
    ],
    "0016": [("SELECT id, state FROM parcel WHERE id >= 7", [(7, "lapsed"), (8, "announced")])],
}
EARLIER = in_order()[:-1]


def test_every_revision_has_its_rows() -> None:
    """A new migration comes with rows of its own here (and what must survive of them)."""
    assert sorted(SEEDS) == sorted(KEPT) == sorted(revision_graph())


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The station's file at every revision, each with the rows of every revision so far."""
    folder = tmp_path_factory.mktemp("chain")
    key = load_or_create_key(folder / "code.key")
    hasher = CodeHasher(key)
    path = folder / "station.db"
    db = Database(path)
    kept: dict[str, Path] = {}
    try:
        for revision in in_order():
            db.upgrade(revision)  # as a start of that release did
            db.engine.dispose()
            raw = sqlite3.connect(path)
            try:
                with raw:
                    SEEDS[revision](raw, hasher)
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
            kept[revision] = folder / f"at-{revision}.db"
            shutil.copyfile(path, kept[revision])
    finally:
        db.close()
    return kept


@pytest.mark.parametrize("revision", EARLIER)
def test_a_station_at_an_earlier_revision_upgrades_on_start_and_keeps_its_data(
    tmp_path: Path, chain: dict[str, Path], revision: str
) -> None:
    settings = station_settings(tmp_path / "var")
    settings.data_dir.mkdir(parents=True)
    shutil.copyfile(chain[revision], settings.database_path)
    shutil.copyfile(chain[revision].parent / "code.key", settings.key_path)
    assert check_database(settings.database_path).revision == revision

    told: list[str] = []
    open_database(settings, told=told.append).close()  # the start's own upgrade
    [before] = backups(settings.backup_path)
    head = head_revision()
    assert before.name.endswith(f"-at-{revision}-before-{head}.db")
    assert check_database(before, thorough=True).revision == revision  # the old one, whole
    assert key_beside(before).read_bytes() == settings.key_path.read_bytes()
    [message] = told
    assert f"from revision {revision} to {head}" in message
    assert str(before.resolve()) in message
    assert "install the previous version" in message

    locks = InMemoryLocks([spec.id for spec in demo_layout().compartments])
    station = open_station(settings, locks)  # what serve does: check, layout, the key
    station.clock = FakeClock()
    try:
        with station.db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
            assert diff == []
            upto = in_order()[: in_order().index(revision) + 1]
            for seeded in upto:
                for query, rows in KEPT[seeded]:
                    got = [tuple(r) for r in connection.exec_driver_sql(query).fetchall()]
                    assert got == rows, (seeded, query)
        opened = pickup.collect(station, code=PIN, terminal="kiosk")  # the old code opens
        assert [(d.compartment_id, d.opened) for d in opened.doors] == [(2, True)]
    finally:
        station.db.close()


def test_a_database_newer_than_the_code_is_refused_with_both_revisions(tmp_path: Path) -> None:
    settings = station_settings(tmp_path / "var")
    db = Database(settings.database_path)
    db.upgrade()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099_from_later'")
    db.close()
    before = settings.database_path.read_bytes()
    locks = InMemoryLocks([spec.id for spec in demo_layout().compartments])
    with pytest.raises(DatabaseTooNew) as refused:
        open_station(settings, locks)
    assert refused.value.exit_code == EXIT_INCOMPATIBLE
    said = refusal(refused.value, settings)
    assert "'0099_from_later' is not one this version knows" in said
    assert f"(the newest it knows is '{head_revision()}')" in said
    assert "Run that newer version again, or restore a backup this version can read" in said
    assert "RestartPreventExitStatus" in said
    assert said.rstrip().endswith(f"(exit code {EXIT_INCOMPATIBLE})")
    assert settings.database_path.read_bytes() == before  # nothing changed
    assert backups(settings.backup_path) == []  # and no backup made of it either
