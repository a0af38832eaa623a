"""The HTTP tests create many accounts: argon2 with its smallest cost keeps them quick.
Which hash is used is checked at full cost in tests/locker/test_accounts.py."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from locker.people import identity


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    quick = PasswordHasher(time_cost=1, memory_cost=1024)
    monkeypatch.setattr(identity, "hasher", lambda: quick)
