"""The golden frames of tests/data/kerong_frames.toml, loaded once for parametrisation."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

FRAMES_FILE = Path(__file__).resolve().parents[1] / "data" / "kerong_frames.toml"


def _load() -> dict[str, list[dict[str, Any]]]:
    with FRAMES_FILE.open("rb") as handle:
        return tomllib.load(handle)


GOLDEN = _load()


def golden_params(protocol: str) -> list[Any]:
    """One pytest param per golden row of ``protocol``, named by the row."""
    return [pytest.param(row, id=row["name"]) for row in GOLDEN[protocol]]


def hex_bytes(text: str) -> bytes:
    return bytes.fromhex(text)


def bit_numbers(mask: int, width: int) -> list[int]:
    """Lock numbers (1-based) whose bit is set in ``mask``."""
    return [n for n in range(1, width + 1) if mask >> (n - 1) & 1]
