"""The directory: the tolerant search over 5,000 made-up German and English people, the
fields' checks, and the CSV import (all or nothing, every bad row reported) and export."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bench.people import Someone, misspelt, people
from locker.people import directory, directory_csv, directory_search, person
from locker.people.directory_csv import CsvRejected
from locker.people.person import Person, RecipientInvalid
from locker.station import Station
from locker.store.tables import AuditEntry, Recipient

CROWD = people(5000)


def _fill(station: Station, crowd: list[Someone]) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with station.db.write() as session:
        session.add_all(
            Recipient(
                name=p.name,
                unit=p.unit,
                email=p.email,
                language=p.language,
                created_at=now,
                updated_at=now,
            )
            for p in crowd
        )


def _names(station: Station, text: str, n: int = 3) -> list[str]:
    return [m.name for m in directory_search.search(station, text)[:n]]


def test_the_generated_crowd_is_5000_different_people_with_umlauts() -> None:
    assert len({p.name for p in CROWD}) == 5000
    assert sum(any(ch in p.name for ch in "äöüß") for p in CROWD) > 500
    assert {p.language for p in CROWD} == {"en", "de"}


def test_a_misspelt_name_finds_its_person_within_the_first_three(station: Station) -> None:
    _fill(station, CROWD)

    @settings(max_examples=150)
    @given(st.sampled_from(CROWD), st.randoms(use_true_random=False))
    def typed(person: Someone, rng: random.Random) -> None:
        text = misspelt(rng, person.name)
        found = directory_search.search(station, text)
        assert len(found) <= directory_search.MATCHES
        assert person.name in [m.name for m in found[:3]], (text, found)

    typed()


def test_umlauts_ascii_word_order_parts_flat_numbers_and_label_text(station: Station) -> None:
    _fill(station, CROWD)
    directory.create(
        station,
        Person(name="Jürgen Groß-Müller", unit="7.042", email="jgm@example.org"),
        actor="staff",
    )
    for typed in (
        "Juergen Gross-Mueller",
        "jurgen gros muller",
        "Müller-Groß Jürgen",
        "JUERGEN GROSSMUELLER",
    ):
        assert _names(station, typed, 1) == ["Jürgen Groß-Müller"], typed
    # the flat number alone, or with a misspelt surname, puts the person first
    assert _names(station, "7.042", 1) == ["Jürgen Groß-Müller"]
    assert _names(station, "Mueler 7.042", 1) == ["Jürgen Groß-Müller"]
    # the label's whole text, scanned: the other words do not hide the name
    label = "Herrn Jürgen Gross-Müller\nLindenstraße 12, Whg 7.042\n10115 Berlin DE"
    assert _names(station, label, 1) == ["Jürgen Groß-Müller"]
    # part of a name offers people who have it
    assert all("Müller" in name for name in _names(station, "Müll", 5))
    # what a courier is offered: the best few, and nothing for nonsense or nothing typed
    assert len(directory_search.search(station, "Anna")) == directory_search.MATCHES
    assert directory_search.search(station, "xqzv") == []
    assert directory_search.search(station, "  ,. ") == []


def test_the_index_follows_changes(station: Station) -> None:
    assert directory_search.search(station, "Ada Lovelace") == []
    ada = directory.create(
        station, Person(name="Ada Lovelace", unit="1", email="ada@example.org"), actor="staff"
    )
    assert _names(station, "ada lovlace", 1) == ["Ada Lovelace"]
    assert ada.id is not None
    directory.update(
        station,
        ada.id,
        Person(name="Ada King", unit="1", email="ada@example.org"),
        actor="staff",
    )
    assert _names(station, "ada king", 1) == ["Ada King"]
    with station.db.write() as session:  # an erasure elsewhere (a row count that moved)
        session.delete(session.get(Recipient, ada.id))
    assert directory_search.search(station, "ada king") == []


def test_the_fields_are_checked_and_every_problem_named() -> None:
    with pytest.raises(RecipientInvalid) as caught:
        person.check(
            Person(
                name=" ",
                unit="x" * 41,
                email="not-an-address",
                phone="call me",
                language="fr",
                notify_by="sms",
                staff_note="n" * 501,
            )
        )
    fields = [p.field for p in caught.value.problems]
    assert set(fields) == {"name", "unit", "email", "phone", "language", "staff_note"}
    with pytest.raises(RecipientInvalid, match="notify_by"):
        person.check(Person(name="A", notify_by="pigeon"))
    with pytest.raises(RecipientInvalid, match="phone: needed to tell them by both"):
        person.check(Person(name="A", email="a@example.org", notify_by="both"))
    ok = person.check(Person(name="  Ada  ", unit=" 3.1 ", email=" a@example.org "))
    assert (ok.name, ok.unit, ok.email) == ("Ada", "3.1", "a@example.org")


GOOD = (
    "name,unit,email,phone,language,needs_accessible,notify_by,staff_note\n"
    "Anna Müller,1.001,anna@example.org,,de,no,mail,\n"
    "Bob Smith,1.002,,+44 20 7946 0000,en,yes,sms,ring twice\n"
)


def test_an_import_with_broken_rows_imports_nothing_and_reports_each(station: Station) -> None:
    directory_csv.import_csv(station, GOOD, actor="staff")
    audit_before = _audit_count(station)
    broken = (
        "name;unit;email;phone;language;needs_accessible;notify_by\n"  # semicolons, as Excel
        "Clara Weiß;2.001;clara@example.org;;de;nein;mail\n"  # fine
        ";2.002;x@example.org;;de;no;mail\n"  # line 3: no name
        "Dora Klein;2.003;dora@;;de;no;mail\n"  # line 4: a bad address
        "Emil Braun;2.004;emil@example.org;;fr;maybe;fax\n"  # line 5: three bad cells
        "Anna Müller;1.001;anna@example.org;;de;no;mail\n"  # line 6: already there
        "Clara Weiß;2.001;clara2@example.org;;de;no;mail\n"  # line 7: twice in the file
        "Fritz Roth;2.005\n"  # line 8: too few cells
    )
    with pytest.raises(CsvRejected) as caught:
        directory_csv.import_csv(station, broken, actor="staff")
    report = {row.line: {p.field for p in row.problems} for row in caught.value.rows}
    assert report == {
        3: {"name"},
        4: {"email"},
        5: {"language", "needs_accessible", "notify_by"},
        6: {"name"},
        7: {"name"},
        8: {"row"},
    }
    assert "6 row(s) rejected, nothing was imported" in str(caught.value)
    # nothing half-imported: Clara (a good row) is not there, nothing was audited
    assert directory.count(station) == 2
    assert directory_search.search(station, "Clara Weiss") == []
    assert _audit_count(station) == audit_before


def test_a_file_without_the_columns_is_refused_whole(station: Station) -> None:
    for text, said in (
        ("", "empty"),
        ("who,where\nAnna,1\n", "unknown: who, where"),
        ("unit,email\n1,a@example.org\n", "'name' is needed"),
    ):
        with pytest.raises(CsvRejected, match=said):
            directory_csv.import_csv(station, text, actor="staff")
    assert directory.count(station) == 0


def test_export_then_import_changes_people_by_id_and_adds_none(station: Station) -> None:
    directory_csv.import_csv(station, GOOD, actor="staff")
    directory.create(
        station, Person(name="=HYPERLINK(1)", unit="-3", email="f@example.org"), actor="staff"
    )
    exported = directory_csv.export_csv(station)
    lines = exported.splitlines()
    assert lines[0] == ",".join(directory_csv.CSV_COLUMNS)
    assert lines[2] == "2,Bob Smith,1.002,,+44 20 7946 0000,en,yes,sms,ring twice"
    assert lines[3].startswith("3,'=HYPERLINK(1),'-3,")  # no formula for a spreadsheet
    changed = exported.replace("ring twice", "ring three times")
    report = directory_csv.import_csv(station, changed, actor="staff")
    assert (report.created, report.updated) == (0, 3)
    assert directory.count(station) == 3
    bob = directory.get(station, 2)
    assert bob.staff_note == "ring three times"
    assert directory.get(station, 3).name == "=HYPERLINK(1)"  # the quote is taken off again
    with pytest.raises(CsvRejected) as caught:
        directory_csv.import_csv(station, "id,name,email\n99,Nobody,n@example.org\n", actor="staff")
    assert caught.value.rows[0].problems[0].message == "no person 99"


def _audit_count(station: Station) -> int:
    with station.db.read() as session:
        return len(session.exec(select(AuditEntry)).all())
