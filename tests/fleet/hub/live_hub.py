"""A hub served for real for the attack tests: ``fleet.app.create_app`` under uvicorn on a
loopback port, on a real PostgreSQL, its clock the real one, its commands kept (not
published). Clients may come from any loopback address (127.0.0.2, 127.0.0.3 …: Linux
routes all of 127/8 to the loopback device), as strangers on other networks would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from api.threaded import served
from fleet import accounts, carriers, registry
from fleet.app import create_app
from fleet.db import HubDatabase
from fleet.settings import HubSettings
from locker.uplink.messages import Command

PASSWORD = "correct horse battery"  # noqa: S105


@dataclass
class LiveHub:
    base_url: str
    db: HubDatabase
    carrier_token: str
    sent: list[Command] = field(default_factory=list)
    verify: Any = True  # a CA file when served over TLS

    def client(self, address: str = "127.0.0.1", **kwargs: Any) -> httpx.Client:
        """An HTTP client whose connections come from ``address``."""
        transport = httpx.HTTPTransport(local_address=address, verify=self.verify)
        return httpx.Client(base_url=self.base_url, transport=transport, timeout=60, **kwargs)

    def token(self, name: str, address: str = "127.0.0.1") -> dict[str, str]:
        with self.client(address) as http:
            answer = http.post("/api/v1/auth/token", json={"name": name, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}


def form_token(http: httpx.Client) -> str:
    """The sign-in form's CSRF value, from the page (which sets its cookie in ``http``)."""
    found = re.search(r'name="form_token" value="([^"]+)"', http.get("/fleet/").text)
    assert found is not None
    return found.group(1)


@contextmanager
def live_hub(
    db: HubDatabase, settings: HubSettings | None = None, **serve: Any
) -> Iterator[LiveHub]:
    now = datetime.now(UTC)
    for station in ("a", "b"):
        registry.add_station(db, station, now)
    accounts.add_operator(db, "olga", PASSWORD, "operator", now)
    accounts.add_operator(db, "ada", PASSWORD, "admin", now)
    made = carriers.add_carrier(db, "Parcel Co", ["a", "b"], "", now)
    sent: list[Command] = []
    app = create_app(db, settings or HubSettings(_env_file=None), sent.append)  # type: ignore[call-arg]
    with served(app, **serve) as base_url:
        yield LiveHub(base_url, db, made.token, sent)
