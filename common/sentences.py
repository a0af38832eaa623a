"""Sentences made from a stable code and its fields, in English or German.

A screen never shows a bare code (``courier_not_found``) or a Python dict: it looks the
code up in a table of ``code -> (English, German)`` whose texts hold ``{field}`` places,
and fills them from the facts it has. A code the table lacks still reads as words
(:func:`readable`), and a field the facts lack shows as ``?``, never as an error.
"""

from __future__ import annotations

from collections.abc import Mapping

Sentences = Mapping[str, tuple[str, str]]
MISSING = "?"


class _Facts(dict[str, object]):
    def __missing__(self, key: str) -> object:
        return MISSING


def readable(code: str) -> str:
    """A code without a sentence as words: ``door_busy`` -> "Door busy",
    ``parcel.stored`` -> "Parcel: stored"."""
    head, _, tail = code.partition(".")
    text = head.replace("_", " ")
    if tail:
        text = f"{text}: {tail.replace('_', ' ').replace('.', ' ')}"
    return text[:1].upper() + text[1:]


def say(table: Sentences, code: str, lang: str, facts: Mapping[str, object] | None = None) -> str:
    """The sentence for ``code`` in ``lang`` ("en" or "de") with ``facts`` filled in."""
    pair = table.get(code)
    if pair is None:
        return readable(code)
    english, german = pair
    return (german if lang == "de" else english).format_map(_Facts(facts or {}))
