"""Checking a layout's TOML: the line of every table and key, and one problem list."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


class Lines:
    """Finds the line of a table or key in TOML text (tomllib keeps no positions)."""

    _HEADER = re.compile(r"^\s*\[(\[)?\s*([A-Za-z0-9_.\-]+)\s*\]")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.tables: dict[tuple[str, int], tuple[int, dict[str, int]]] = {}
        counts: dict[str, int] = {}
        current: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if header := self._HEADER.match(line):
                name = header.group(2)
                index = counts.get(name, 0) if header.group(1) else 0
                counts[name] = index + 1
                current = {}
                self.tables[(name, index)] = (number, current)
            elif key := self._KEY.match(line):
                current.setdefault(key.group(1), number)

    def of(self, table: str, index: int, key: str | None = None) -> int:
        header, keys = self.tables.get((table, index), (0, {}))
        return keys.get(key, header) if key else header


class Checker:
    """Collects the problems of one layout file, each with its line."""

    def __init__(
        self,
        text: str,
        source: str,
        fields: Mapping[str, Mapping[str, type | tuple[type, ...]]],
        required: Mapping[str, tuple[str, ...]],
    ) -> None:
        self.lines = Lines(text)
        self.fields = fields
        self.required = required
        self.source = source
        self.problems: list[str] = []

    def fail(self, table: str, index: int, key: str | None, text: str) -> None:
        self.problems.append(f"{self.source}:{self.lines.of(table, index, key)}: {text}")

    def entry(self, table: str, index: int, raw: Any) -> dict[str, Any] | None:
        """Check one table's keys and types; None when it is unusable."""
        if not isinstance(raw, dict):
            self.fail(table, index, None, f"[{table}] must be a table")
            return None
        fields = self.fields[table]
        ok = True
        for key, value in raw.items():
            expected = fields.get(key)
            if expected is None:
                known = ", ".join(fields)
                self.fail(table, index, key, f"unknown key '{key}' in [{table}] (known: {known})")
                ok = False
            elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                name = expected.__name__ if isinstance(expected, type) else str(expected)
                self.fail(table, index, key, f"'{key}' must be {name}, not {value!r}")
                ok = False
        for key in self.required.get(table, ()):
            if key not in raw:
                self.fail(table, index, None, f"[{table}] lacks '{key}'")
                ok = False
        return raw if ok else None
