"""Text nobody types, refused wherever a person's text comes in (the station's request
bodies, queries and forms; every text the hub takes): it can make a screen or a log show
something else than what was stored, and PostgreSQL cannot store a NUL at all.

Refused: control characters (NUL, escape, line breaks, C1 controls), bidirectional
overrides and other invisible format characters (U+202E, U+2066, U+FEFF …), line and
paragraph separators, lone surrogates. The joiners emoji and some scripts need (U+200C,
U+200D) stay allowed.
"""

from __future__ import annotations

import unicodedata

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})
# Secrets are hashed, never shown: what they hold is the owner's business.
SECRET_FIELDS = frozenset({"password", "new_password", "new_password_again"})


def unprintable(text: str) -> str | None:
    """The first character of ``text`` a person cannot see as typed, written like "U+001B"
    (None: none)."""
    for ch in text:
        if unicodedata.category(ch) in REFUSED_CATEGORIES and ch not in ALLOWED_FORMAT:
            return f"U+{ord(ch):04X}"
    return None


def printable(value: str) -> str:
    """A validator for a text field a person reads: ``value``, or ValueError."""
    found = unprintable(value)
    if found is not None:
        raise ValueError(f"contains a control or invisible format character ({found})")
    return value
