"""Where a table or key stands in TOML text: ``tomllib`` keeps no positions, and a
problem in a file is best named by its line."""

from __future__ import annotations

import re


class TomlLines:
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
