"""The live station the fuzzer talks to, and the credentials it sends with each operation.

Which role an operation needs is read from its tag (the routers are split by role); one
case in ten goes anonymous and one in ten with the wrong role, so the 401 and 403
answers are checked against the document too. What the fuzzer breaks that would stop
the rest of the run from reaching past the first step is mended after the call: a
revoked token or a switched-off account is replaced, a fault injected into the
simulator is cleared.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from schemathesis import Case

from locker.people import accounts, credentials, identity
from locker.types import Role
from tests.api.live import LiveStation, live_station

ROLE_BY_TAG = {
    "couriers": "courier",
    "staff": "staff",
    "people": "staff",  # a person's data (issue 17)
    "accounts": "admin",
    "notifications": "admin",
    "simulator": "staff",  # the simulated doors: staff (or the simulator's own token)
}
WRONG_ROLE = {"courier": "staff", "staff": "courier", "admin": "courier", None: "courier"}
ROLES = {"admin": Role.ADMIN, "staff": Role.STAFF, "courier": Role.COURIER}
TOKEN_DAYS = 3650


@dataclass
class FuzzStation:
    live: LiveStation
    tokens: dict[str, str] = field(default_factory=dict)
    answers: defaultdict[tuple[str, str], Counter[int]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    _names: Iterator[int] = field(default_factory=lambda: count(1))

    @property
    def base_url(self) -> str:
        return self.live.base_url

    def role_for(self, tags: list[str]) -> str | None:
        for tag in tags:
            if tag in ROLE_BY_TAG:
                return ROLE_BY_TAG[tag]
        return None

    def headers_for(self, case: Case, who: int) -> dict[str, str]:
        """``who`` 0: nobody; 1: the wrong role; otherwise the role the operation needs."""
        right = self.role_for(list(case.operation.tags or []))
        if who == 0:
            return {}
        role = WRONG_ROLE[right] if who == 1 else right
        if role is None:
            return {}
        if case.method == "DELETE" and case.path == "/api/v1/auth/token":
            return {"Authorization": f"Bearer {self._token(role)}"}  # this one gets revoked
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def after(self, case: Case) -> None:
        """Undo what would leave the rest of the run locked out or on broken boards."""
        if case.path.endswith("/deactivate"):
            for role, token in list(self.tokens.items()):
                if credentials.principal_for_token(self.live.runtime.station, token) is None:
                    self.tokens[role] = self._account(role)
        if case.path == "/api/v1/sim/doors/{compartment_id}/fault" and case.method == "POST":
            compartment = (case.path_parameters or {}).get("compartment_id")
            ids = {c.id for c in self.live.runtime.station.layout.compartments}
            if compartment in ids:
                self.live.sim.repair(compartment)

    def _account(self, role: str) -> str:
        station = self.live.runtime.station
        made = accounts.create_account(
            station,
            name=f"fuzz-{role}-{next(self._names)}",
            role=ROLES[role],
            carrier="Parcel Co" if role == "courier" else None,
            actor="test",
            password="correct horse battery",
        )
        return credentials.issue_token(
            station, made.principal, ttl=timedelta(days=TOKEN_DAYS), label="fuzz"
        ).token

    def _token(self, role: str) -> str:
        station = self.live.runtime.station
        who = credentials.principal_for_token(station, self.tokens[role])
        assert who is not None
        return credentials.issue_token(
            station, who, ttl=timedelta(days=TOKEN_DAYS), label="to revoke"
        ).token


@contextmanager
def fuzz_station(tmp_path: Path) -> Iterator[FuzzStation]:
    with pytest.MonkeyPatch.context() as patch:
        # Many accounts are made (the fuzzer's and ours): argon2 at its smallest cost.
        quick = PasswordHasher(time_cost=1, memory_cost=1024)
        patch.setattr(identity, "hasher", lambda: quick)
        with live_station(tmp_path) as live:
            tokens = {role: live.tokens[role] for role in ROLES}
            yield FuzzStation(live, tokens)
