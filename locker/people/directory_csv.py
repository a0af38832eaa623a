"""The directory as a CSV file: imported all or nothing, exported for a spreadsheet.

A file with one bad row changes nothing, and every bad row is reported with its line and
why. Cells that a spreadsheet would run as a formula are quoted on the way out and
unquoted on the way in. ``,``, ``;`` and tabs are all taken as separators.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import col, select

from locker.audit import record
from locker.errors import DomainError
from locker.people.directory import add_person, apply_fields
from locker.people.directory_search import changed, fold
from locker.people.person import FieldProblem, Person, RecipientInvalid, check, trimmed
from locker.station import Station
from locker.store.tables import Recipient

CSV_COLUMNS = (
    "id",
    "name",
    "unit",
    "email",
    "phone",
    "language",
    "needs_accessible",
    "notify_by",
    "staff_note",
)
MAX_IMPORT_ROWS = 100_000
FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell
TRUE = frozenset({"1", "true", "yes", "y", "ja", "j", "x"})
FALSE = frozenset({"", "0", "false", "no", "n", "nein"})


@dataclass(frozen=True)
class RowProblem:
    line: int  # the file's line (the header is line 1)
    problems: tuple[FieldProblem, ...]


class CsvRejected(DomainError):
    """An import with bad rows, or no usable header: nothing was imported."""

    code = "csv_rejected"
    status = 422

    def __init__(self, message: str, rows: Sequence[RowProblem] = ()) -> None:
        super().__init__(message)
        self.rows = tuple(rows)


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int


def _flag(value: str) -> bool | None:
    word = value.strip().casefold()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    return None


def _person_of(cells: Mapping[str, str]) -> tuple[int | None, Person, list[FieldProblem]]:
    """A row's id (None: a new person), its person, and what is wrong with its cells."""
    problems: list[FieldProblem] = []
    raw_id = trimmed(cells.get("id"))
    rid: int | None = None
    if raw_id:
        if raw_id.isdigit() and 0 < int(raw_id) < 2**63:
            rid = int(raw_id)
        else:
            problems.append(
                FieldProblem("id", "a person's number from an export, or empty", "bad_id")
            )
    accessible = _flag(cells.get("needs_accessible") or "")
    if accessible is None:
        problems.append(FieldProblem("needs_accessible", "yes or no", "yes_no"))
    language = trimmed(cells.get("language")).lower() or "en"
    notify_by = trimmed(cells.get("notify_by")).lower() or "mail"
    person = Person(
        name=_unquote(cells.get("name")),
        unit=_unquote(cells.get("unit")),
        email=_unquote(cells.get("email")) or None,
        phone=cells.get("phone") or None,
        language=language,
        needs_accessible=bool(accessible),
        notify_by=notify_by,
        staff_note=_unquote(cells.get("staff_note")),
    )
    return rid, person, problems


def _unquote(cell: str | None) -> str:
    """A cell as :func:`export_csv` wrote it: the quote before a formula's sign goes."""
    text = cell or ""
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_SIGNS else text


def _rows(
    text: str,
) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[RowProblem]]:
    """The header, the rows (with their line numbers) and the rows that are not rows at
    all (wrong number of cells) of a CSV text, separated by ``,``, ``;`` or tabs."""
    text = text.removeprefix("\ufeff")  # a spreadsheet's byte order mark
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)  # the header's separator (Excel writes ";")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise CsvRejected("the file is empty: the first line names the columns") from None
    except csv.Error as exc:
        raise CsvRejected(f"line 1: {exc}") from None
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if "name" not in header or unknown or len(set(header)) != len(header):
        raise CsvRejected(
            "the first line must name the columns, among: "
            + ", ".join(CSV_COLUMNS)
            + " ('name' is needed"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            + (", each once" if len(set(header)) != len(header) else "")
            + ")"
        )
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[RowProblem] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # an empty line
            if len(cells) != len(header):
                problems.append(
                    RowProblem(
                        line,
                        (
                            FieldProblem(
                                "row",
                                f"{len(cells)} cells, the header has {len(header)}",
                                "cells",
                                str(len(header)),
                            ),
                        ),
                    )
                )
                continue
            rows.append((line, dict(zip(header, cells, strict=True))))
            if len(rows) > MAX_IMPORT_ROWS:
                raise CsvRejected(f"at most {MAX_IMPORT_ROWS} people in one file")
    except csv.Error as exc:
        problems.append(RowProblem(reader.line_num, (FieldProblem("row", str(exc), "unreadable"),)))
    return header, rows, problems


def _rejected_words(rows: Sequence[RowProblem]) -> str:
    return f"{len(rows)} row(s) rejected, nothing was imported"


def import_csv(station: Station, text: str, *, actor: str) -> ImportReport:
    """Add (empty ``id``) or change (``id`` of an export) every person of the file, in one
    transaction; a file with any bad row changes nothing (:class:`CsvRejected` lists them).

    A new person whose name and unit are already in the directory, or twice in the file,
    is refused: importing the same file twice must not double everybody."""
    _header, rows, problems = _rows(text)
    checked: list[tuple[int, int | None, Person]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, cells in rows:
        rid, person, wrong = _person_of(cells)
        try:
            person = check(person)
        except RecipientInvalid as exc:
            wrong += exc.problems
        key = (fold(person.name), fold(person.unit))
        if not wrong and key in seen:
            wrong.append(
                FieldProblem(
                    "name", f"the same name and unit as line {seen[key]}", "twice", str(seen[key])
                )
            )
        seen.setdefault(key, line)
        if wrong:
            problems.append(RowProblem(line, tuple(wrong)))
        else:
            checked.append((line, rid, person))
    now = station.now()
    created = updated = 0
    with station.db.write() as session:
        existing = {
            (fold(name), fold(unit)): rid
            for rid, name, unit in session.exec(
                select(Recipient.id, Recipient.name, Recipient.unit)
            ).all()
        }
        for line, rid, person in checked:
            key = (fold(person.name), fold(person.unit))
            if rid is None:
                if key in existing:
                    problems.append(
                        RowProblem(
                            line,
                            (
                                FieldProblem(
                                    "name",
                                    f"already in the directory (person {existing[key]}): give "
                                    "its id to change it",
                                    "exists",
                                    str(existing[key]),
                                ),
                            ),
                        )
                    )
                    continue
                if not problems:
                    add_person(session, person, actor=actor, now=now)
                created += 1
                continue
            row = session.get(Recipient, rid)
            if row is None:
                problems.append(
                    RowProblem(
                        line, (FieldProblem("id", f"no person {rid}", "no_such_id", str(rid)),)
                    )
                )
                continue
            if not problems:
                apply_fields(row, person, now)
                session.add(row)
            updated += 1
        if problems:
            problems.sort(key=lambda p: p.line)
            session.rollback()
            raise CsvRejected(_rejected_words(problems), problems)
        record(
            session,
            actor=actor,
            action="recipient.imported",
            now=now,
            detail=f"{created} added, {updated} changed",
        )
    changed()
    return ImportReport(created, updated)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts with = + - @ as a formula: quote it.
    return "'" + text if text[:1] in FORMULA_SIGNS else text


def export_csv(station: Station) -> str:
    """Everybody, by id, with the columns :func:`import_csv` takes back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    with station.db.read() as session:
        for row in session.exec(select(Recipient).order_by(col(Recipient.id))):
            writer.writerow(_export_row(row))
    return out.getvalue()


def _export_row(row: Recipient) -> Iterable[str]:
    phone = row.phone or ""
    return [
        str(row.id),
        _cell(row.name),
        _cell(row.unit),
        _cell(row.email),
        phone,  # a leading + is a phone number's own, and the import takes it as such
        row.language,
        "yes" if row.needs_accessible else "no",
        row.notify_by,
        _cell(row.staff_note),
    ]
