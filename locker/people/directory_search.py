"""The courier's search of the directory: a person found by part of a name or a flat number.

The match is tolerant (typos, umlauts and their ASCII spellings, word order), scored by
rapidfuzz over names folded to plain ASCII, and offers the best few. The search keeps an
index of every person's folded name in memory, rebuilt when the directory changed (a write
through :mod:`locker.people.directory`, or a row count or highest id that moved, e.g. an
erasure).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from locker.station import Station
from locker.store.tables import Recipient

MATCHES = 5  # the best few a courier is offered
CUTOFF = 60.0  # below this a name is no match at all (rapidfuzz's 0..100 scale)
WORD_CUTOFF = 72.0  # a typed word this alike to a name's word may be it
SHORT_WORD_CUTOFF = 60.0  # for words of SHORT letters or fewer, where one typo weighs more
SHORT = 5
PREFIX_SCORE = 95.0  # a name's word that begins with the typed one ("Müll" for "Müller")
UNIT_BONUS = 15.0  # the flat number typed or scanned matches the person's

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
    from rapidfuzz import fuzz, process  # loaded on the first search, not at start

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
