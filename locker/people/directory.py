"""The directory: the people the station knows, kept by staff, found by couriers.

Staff add, change, import and export people (CSV, all or nothing: a file with one bad row
changes nothing, and every bad row is reported with its line and why). Couriers find a
person by typing part of a name or a flat number, or by scanning the label's text: the
match is tolerant (typos, umlauts and their ASCII spellings, word order), scored by
rapidfuzz over names folded to plain ASCII, and offers the best few.

The search keeps an index of every person's folded name in memory, rebuilt when the
directory changed (a write here, or a row count or highest id that moved, e.g. an erasure).
"""

from __future__ import annotations

import csv
import io
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from rapidfuzz import fuzz, process
from sqlmodel import Session, col, func, select

from locker.audit import record
from locker.errors import DomainError, NotFound
from locker.station import Station
from locker.store.tables import Recipient

NOTIFY_BY = ("mail", "sms", "both")
LANGUAGES = ("en", "de")
MAX_NAME = 200
MAX_UNIT = 40
MAX_EMAIL = 254
MAX_PHONE = 32
MAX_NOTE = 500
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()/-]{3,}$")
MATCHES = 5  # the best few a courier is offered
CUTOFF = 60.0  # below this a name is no match at all (rapidfuzz's 0..100 scale)
WORD_CUTOFF = 72.0  # a typed word this alike to a name's word may be it
SHORT_WORD_CUTOFF = 60.0  # for words of SHORT letters or fewer, where one typo weighs more
SHORT = 5
PREFIX_SCORE = 95.0  # a name's word that begins with the typed one ("Müll" for "Müller")
UNIT_BONUS = 15.0  # the flat number typed or scanned matches the person's
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
class FieldProblem:
    """What is wrong with one field: in English (``message``), and as a stable ``reason``
    (with ``n``, a number or name it mentions) for the screens to say in their language."""

    field: str
    message: str
    reason: str = ""
    n: str = ""


class RecipientInvalid(DomainError):
    """A person's fields that do not pass (each problem named with its field)."""

    code = "recipient_invalid"
    status = 422

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = tuple(problems)


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
class Person:
    """A person's fields as staff give them (before they are checked)."""

    name: str
    unit: str = ""
    email: str | None = None
    phone: str | None = None
    language: str = "en"
    needs_accessible: bool = False
    notify_by: str = "mail"
    staff_note: str = ""


def _text(value: str | None) -> str:
    return (value or "").strip()


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def check(person: Person) -> Person:
    """The person with its fields trimmed, or :class:`RecipientInvalid` naming every problem."""
    name, unit, note = _text(person.name), _text(person.unit), _text(person.staff_note)
    email = _text(person.email) or None
    phone = _text(person.phone) or None
    problems: list[FieldProblem] = []

    def need(ok: bool, where: str, message: str, reason: str, n: object = "") -> None:
        if not ok:
            problems.append(FieldProblem(where, message, reason, str(n)))

    need(bool(name), "name", "a name is needed", "required")
    need(len(name) <= MAX_NAME, "name", f"at most {MAX_NAME} characters", "too_long", MAX_NAME)
    need(len(unit) <= MAX_UNIT, "unit", f"at most {MAX_UNIT} characters", "too_long", MAX_UNIT)
    need(
        len(note) <= MAX_NOTE, "staff_note", f"at most {MAX_NOTE} characters", "too_long", MAX_NOTE
    )
    for where, value in (("name", name), ("unit", unit)):
        need(not _has_control(value), where, "no control characters", "control")
    if email is not None:
        need(
            len(email) <= MAX_EMAIL,
            "email",
            f"at most {MAX_EMAIL} characters",
            "too_long",
            MAX_EMAIL,
        )
        need(
            EMAIL.match(email) is not None,
            "email",
            "not an email address (name@example.org)",
            "not_email",
        )
    if phone is not None:
        need(
            len(phone) <= MAX_PHONE,
            "phone",
            f"at most {MAX_PHONE} characters",
            "too_long",
            MAX_PHONE,
        )
        need(PHONE.match(phone) is not None, "phone", "digits, spaces, + ( ) / - only", "not_phone")
    need(person.language in LANGUAGES, "language", "en or de", "language")
    if person.notify_by not in NOTIFY_BY:
        problems.append(FieldProblem("notify_by", "mail, sms or both", "notify_by"))
    else:
        by = person.notify_by
        if by in ("mail", "both"):
            need(email is not None, "email", f"needed to tell them by {by}", "needed_for", by)
        if by in ("sms", "both"):
            need(phone is not None, "phone", f"needed to tell them by {by}", "needed_for", by)
    if problems:
        raise RecipientInvalid(problems)
    return replace(person, name=name, unit=unit, email=email, phone=phone, staff_note=note)


# -- folding and the index ------------------------------------------------------------------

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "o"})
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower case plain ASCII words: "Jürgen  Groß-Müller" -> "juergen gross mueller".

    German umlauts become their ASCII spellings (ü -> ue), other accents are dropped
    (é -> e); "Mueller", "Muller" and "Müller" then differ by one letter at most."""
    text = text.casefold().translate(_GERMAN)
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    return " ".join(_NOT_WORD.sub(" ", text).split())


def _compact(unit: str) -> str:
    """A flat or customer number without its dots and dashes: "7.042" -> "7042"."""
    return fold(unit).replace(" ", "")


@dataclass(frozen=True)
class Match:
    """A person a courier may choose: only what a courier needs to see."""

    recipient_id: int
    name: str
    unit: str
    score: float


@dataclass
class _Index:
    stamp: tuple[int, int, int]
    ids: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    words: list[tuple[str, ...]] = field(default_factory=list)  # each person's folded name
    by_word: dict[str, list[int]] = field(default_factory=dict)  # folded word -> positions
    by_unit: dict[str, list[int]] = field(default_factory=dict)  # compact unit -> positions
    vocabulary: list[str] = field(default_factory=list)  # every word of every name, once


_lock = threading.Lock()
_indexes: dict[str, _Index] = {}
_changes = 0  # bumped by every write through this module (in this process)


def changed() -> None:
    """The directory changed: the next search rebuilds its index."""
    global _changes
    with _lock:
        _changes += 1


def _stamp(session: Session) -> tuple[int, int, int]:
    count, highest = session.exec(
        select(func.count(col(Recipient.id)), func.max(Recipient.id))
    ).one()
    return (_changes, int(count or 0), int(highest or 0))


def _index(station: Station) -> _Index:
    where = str(station.db.path)
    with station.db.read() as session:
        stamp = _stamp(session)
        known = _indexes.get(where)
        if known is not None and known.stamp == stamp:
            return known
        rows = session.exec(
            select(Recipient.id, Recipient.name, Recipient.unit).order_by(col(Recipient.id))
        ).all()
    index = _Index(stamp)
    for rid, name, unit in rows:
        assert rid is not None
        pos = len(index.ids)
        words = tuple(dict.fromkeys(fold(name).split()))
        index.ids.append(rid)
        index.names.append(name)
        index.units.append(unit)
        index.words.append(words)
        for word in words:
            index.by_word.setdefault(word, []).append(pos)
        index.by_unit.setdefault(_compact(unit), []).append(pos)
    index.vocabulary = list(index.by_word)
    with _lock:
        _indexes[where] = index
    return index


def _word_matches(index: _Index, word: str) -> dict[str, float]:
    """The directory's words like ``word`` (rapidfuzz's ratio over the vocabulary, a few
    thousand words), a word that begins with it counting as nearly equal."""
    found = {
        known: float(score)
        for known, score, _ in process.extract(
            word,
            index.vocabulary,
            scorer=fuzz.ratio,
            score_cutoff=SHORT_WORD_CUTOFF if len(word) <= SHORT else WORD_CUTOFF,
            limit=None,
        )
    }
    if len(word) >= 3:
        for known in index.vocabulary:
            if known.startswith(word):
                found[known] = max(found.get(known, 0.0), PREFIX_SCORE)
    return found


def search(station: Station, text: str, *, limit: int = MATCHES) -> list[Match]:
    """The best ``limit`` people for what the courier typed or scanned, best first.

    Words with a digit are taken as a flat or customer number: a person whose number is
    one of them gains :data:`UNIT_BONUS` (and is offered on the number alone). The other
    words are matched word by word against the names, in any order, each to its most
    alike (rapidfuzz's ratio: typos, umlauts spelt out): how well the typed words are
    found in the name (part of a name finds everybody with it) and how well the name's
    words are found in the text (a label's extra words do not count against it), the
    better of the two weighing most. Nobody below :data:`CUTOFF` is offered."""
    units = {
        _compact(token)
        for token in re.split(r"[\s,;]+", text)
        if any(ch.isdigit() for ch in token) and _compact(token)
    }
    typed = [w for w in dict.fromkeys(fold(text).split()) if not any(c.isdigit() for c in w)]
    if not typed and not units:
        return []
    index = _index(station)
    scores: dict[int, float] = {}
    if typed:
        alike = {word: _word_matches(index, word) for word in typed}
        candidates: set[int] = set()
        for matches in alike.values():
            for known in matches:
                candidates.update(index.by_word[known])
        for pos in candidates:
            score = _score(alike, index.words[pos])
            if score >= CUTOFF:
                scores[pos] = score
    for unit in units:
        for pos in index.by_unit.get(unit, ()):
            named = (
                _score({w: _word_matches(index, w) for w in typed}, index.words[pos])
                if typed
                else 100.0
            )
            scores[pos] = max(scores.get(pos, 0.0), named) + UNIT_BONUS
    best = sorted(scores.items(), key=lambda item: (-item[1], index.names[item[0]], item[0]))
    return [
        Match(index.ids[pos], index.names[pos], index.units[pos], round(score, 1))
        for pos, score in best[:limit]
    ]


def _score(alike: Mapping[str, Mapping[str, float]], name: tuple[str, ...]) -> float:
    if not name:
        return 0.0
    typed_found = sum(max((m.get(w, 0.0) for w in name), default=0.0) for m in alike.values())
    name_found = sum(max((m.get(w, 0.0) for m in alike.values()), default=0.0) for w in name)
    a, b = typed_found / len(alike), name_found / len(name)
    return 0.7 * max(a, b) + 0.3 * min(a, b)


# -- keeping the directory --------------------------------------------------------------------


def _apply(row: Recipient, person: Person, now: datetime) -> None:
    row.name = person.name
    row.unit = person.unit
    row.email = person.email
    row.phone = person.phone
    row.language = person.language
    row.needs_accessible = person.needs_accessible
    row.notify_by = person.notify_by
    row.staff_note = person.staff_note
    row.updated_at = now


def _add(session: Session, person: Person, *, actor: str, now: datetime) -> Recipient:
    row = Recipient(name="", created_at=now, updated_at=now)
    _apply(row, person, now)
    session.add(row)
    session.flush()
    # The audit log names the person by id only: it is kept for good, personal data is not.
    record(session, actor=actor, action="recipient.created", now=now, detail=f"recipient {row.id}")
    return row


def recipient_row(session: Session, recipient_id: int) -> Recipient:
    row = session.get(Recipient, recipient_id)
    if row is None:
        raise NotFound("recipient", recipient_id)
    return row


def create(station: Station, person: Person, *, actor: str) -> Recipient:
    person = check(person)
    with station.db.write() as session:
        row = _add(session, person, actor=actor, now=station.now())
    changed()
    return row


def update(station: Station, recipient_id: int, person: Person, *, actor: str) -> Recipient:
    person = check(person)
    now = station.now()
    with station.db.write() as session:
        row = recipient_row(session, recipient_id)
        _apply(row, person, now)
        session.add(row)
        record(
            session, actor=actor, action="recipient.updated", now=now, detail=f"recipient {row.id}"
        )
    changed()
    return row


def get(station: Station, recipient_id: int) -> Recipient:
    with station.db.read() as session:
        return recipient_row(session, recipient_id)


def listing(
    station: Station, text: str = "", *, limit: int = 100, offset: int = 0
) -> list[Recipient]:
    """People by name; with ``text``, the best matches of the tolerant search first."""
    if text.strip():
        found = search(station, text, limit=limit)
        with station.db.read() as session:
            rows = {
                r.id: r
                for r in session.exec(
                    select(Recipient).where(col(Recipient.id).in_([m.recipient_id for m in found]))
                ).all()
            }
        return [rows[m.recipient_id] for m in found if m.recipient_id in rows]
    with station.db.read() as session:
        return list(
            session.exec(
                select(Recipient)
                .order_by(col(Recipient.name), col(Recipient.id))
                .limit(limit)
                .offset(offset)
            ).all()
        )


def count(station: Station) -> int:
    with station.db.read() as session:
        return int(session.exec(select(func.count(col(Recipient.id)))).one() or 0)


# -- CSV ----------------------------------------------------------------------------------


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
    raw_id = _text(cells.get("id"))
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
    language = _text(cells.get("language")).lower() or "en"
    notify_by = _text(cells.get("notify_by")).lower() or "mail"
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
                    _add(session, person, actor=actor, now=now)
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
                _apply(row, person, now)
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
