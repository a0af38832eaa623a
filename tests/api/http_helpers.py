"""Helpers shared by the end-to-end HTTP tests (tests/api/test_http_*.py).

Everything here talks to a served station through HTTP (or plays a person at the
simulated doors); nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app, make_context
from api.runtime import Runtime, running_station
from api.threaded import served
from locker.runtime.settings import Settings
from tests.api.live import LiveStation, layout_text
from tests.support import FakeClock

PROBLEM_TYPE = "application/problem+json"
API = "/api/v1"
COMPARTMENTS = tuple(range(1, 13))  # the live layout: 12 compartments on two boards
# Sizes of the live layout (tests/api/live.py): S S M M L XL on each board.
SIZES = {cid: ("S", "S", "M", "M", "L", "XL")[(cid - 1) % 6] for cid in COMPARTMENTS}


def kiosk_collect(live: LiveStation, code: str, address: str = "127.0.0.2") -> httpx.Response:
    """A customer collects at a kiosk of client address ``address``."""
    with live.client(None, local_address=address) as kiosk:
        response: httpx.Response = kiosk.post(f"{API}/collect", json={"code": code})
    return response


def compartment_state_of(live: LiveStation, cid: int) -> str:
    """A compartment's state as staff read it."""
    with live.client("staff") as staff:
        state: str = ok(staff.get(f"{API}/compartments/{cid}"))["compartment"]["state"]
    return state


def ids_of(items: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in items]


def parse_time(text: str) -> datetime:
    """An API's time (ISO 8601, ``Z`` for UTC)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is the problem document ``code`` with ``status``; return its body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_TYPE), response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status, body
    assert isinstance(body["detail"], str), body
    assert body["detail"], body
    assert body["type"].endswith(code), body
    return body


def ok(response: httpx.Response, status: int = 200) -> Any:
    """Assert a successful answer with ``status``; return its JSON body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    return response.json()


def parcel(
    tracking: str = "TRK-1",
    *,
    size: str | None = "S",
    dims: tuple[int, int, int] | None = None,
    email: str | None = None,
    phone: str | None = None,
    name: str = "Ada Lovelace",
    **extra: Any,
) -> dict[str, Any]:
    """A parcel body as a courier sends it."""
    body: dict[str, Any] = {"tracking_number": tracking, "recipient_name": name, **extra}
    if size is not None:
        body["size"] = size
    if dims is not None:
        body["dimensions"] = {"width_mm": dims[0], "height_mm": dims[1], "depth_mm": dims[2]}
    if email is not None:
        body["recipient_email"] = email
    if phone is not None:
        body["recipient_phone"] = phone
    return body


def deposit(courier: httpx.Client, **parcel_kw: Any) -> tuple[int, int]:
    """A new parcel deposited (its door opened); returns (parcel id, compartment id)."""
    body = ok(courier.post(f"{API}/deposits", json={"parcel": parcel(**parcel_kw)}), 201)
    assert body["door"]["opened"] is True, body
    return body["parcel"]["id"], body["door"]["compartment_id"]


@dataclass(frozen=True)
class StoredParcel:
    id: int
    compartment_id: int
    pin: str
    qr_token: str
    opens: tuple[int, ...]


def store(live: LiveStation, courier: httpx.Client, **parcel_kw: Any) -> StoredParcel:
    """Deposit a parcel, put it in, close the door and confirm: it is stored with a code.

    Meant for stations without the background door watcher (which could store the
    parcel first and keep the code for the next confirm)."""
    pid, cid = deposit(courier, **parcel_kw)
    live.sim.put(cid)
    live.sim.close(cid)
    body = ok(courier.post(f"{API}/parcels/{pid}/confirm"))
    assert body["parcel"]["state"] == "stored", body
    code = body["code"]
    assert code is not None, body
    return StoredParcel(pid, cid, code["pin"], code["qr_token"], tuple(code["opens_parcels"]))


def pulses(live: LiveStation) -> dict[int, int]:
    """How often each simulated lock was pulsed so far."""
    return {cid: live.sim.pulses(cid) for cid in COMPARTMENTS}


def pulsed_since(live: LiveStation, before: dict[int, int]) -> dict[int, int]:
    """The locks pulsed since ``before`` was taken, with how often."""
    now = pulses(live)
    return {cid: now[cid] - before[cid] for cid in COMPARTMENTS if now[cid] != before[cid]}


def compartment(staff: httpx.Client, cid: int) -> dict[str, Any]:
    body: dict[str, Any] = ok(staff.get(f"{API}/compartments/{cid}"))["compartment"]
    return body


def parcel_state(client: httpx.Client, pid: int) -> str:
    state: str = ok(client.get(f"{API}/parcels/{pid}"))["state"]
    return state


def metric_samples(client: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics, keyed by (sample name, labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain"), response.headers
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def metric(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@dataclass
class BareStation:
    """A served station with no accounts at all, as after a fresh install."""

    base_url: str
    runtime: Runtime
    clock: FakeClock

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30.0)


@contextmanager
def bare_station(tmp_path: Path) -> Iterator[BareStation]:
    """The live station's layout and driver on the simulator, but no accounts."""
    layout_file = tmp_path / "layout.toml"
    layout_file.write_text(layout_text())
    config = Settings(
        data_dir=tmp_path / "var",
        layout=layout_file,
        _env_file=None,  # type: ignore[call-arg]
    )
    clock = FakeClock()
    with running_station(config) as runtime:
        runtime.station.clock = clock
        ctx = make_context(runtime.station, config, sim_station=runtime.sim)
        with served(create_app(ctx, background=False)) as base_url:
            yield BareStation(base_url, runtime, clock)
