"""The screens' words: a table of ``key -> (English, German)`` and the helper that says
them in one language (``words("kiosk_opened", n=3)``), and the choice of the language.

Each set of screens keeps its own table (its words are its own) and subclasses
:class:`Words` with the helpers only it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
WordTable = Mapping[str, tuple[str, str]]


def pick_language(asked: str | None, remembered: str | None, accept: str | None) -> str:
    """The query's choice, else the cookie's, else the browser's first known one."""
    for choice in (asked, remembered):
        if choice in LANGUAGES:
            return choice
    for part in (accept or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Words:
    """The texts of one language; a subclass names its table in ``TEXTS``."""

    TEXTS: ClassVar[WordTable] = {}
    lang: str

    def __call__(self, key: str, **fields: object) -> str:
        english, german = self.TEXTS[key]
        text = german if self.lang == "de" else english
        return text.format(**fields) if fields else text
