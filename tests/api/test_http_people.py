"""Issue 17 (second half) over real HTTP, the real driver and the simulated boards: two
parcels in one compartment collected with one code; retention by moving the clock;
export and erasure leave no trace of the person in the database file (nor its WAL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from api.background import jobs
from locker.store.tables import Recipient
from tests.api.http_helpers import (
    API,
    ok,
    parcel,
    parcel_state,
    problem,
    pulsed_since,
    pulses,
    store,
)
from tests.api.live import LiveStation, live_station
from tests.mail_support import smtp_server

NAME, EMAIL, PHONE = "Grace Hopper", "grace@example.org", "+49 171 4242 99"


def _collect(live: LiveStation, code: str) -> dict[str, object]:
    with live.client(None, local_address="127.0.0.2") as kiosk:
        body: dict[str, object] = ok(kiosk.post(f"{API}/collect", json={"code": code}))
    return body


def _bytes_of(live: LiveStation) -> bytes:
    path = live.runtime.station.db.path
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _traces(live: LiveStation) -> set[bytes]:
    data = _bytes_of(live)
    return {s for s in (NAME.encode(), EMAIL.encode(), PHONE.encode()) if s in data}


def test_two_parcels_in_one_compartment_are_collected_with_one_code(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("rival") as rival,
        live.client("staff") as staff,
    ):
        first = store(live, courier, tracking="B-1", size="M", email=EMAIL)
        before = pulses(live)
        body = ok(
            courier.post(
                f"{API}/deposits",
                json={"parcel": parcel("B-2", size="S", email=EMAIL), "fits_beside": True},
            ),
            201,
        )
        second = body["parcel"]["id"]
        assert body["door"]["compartment_id"] == first.compartment_id  # opened again
        assert body["parcel"]["beside_parcel_id"] == first.id
        assert pulsed_since(live, before) == {first.compartment_id: 1}
        live.sim.put(first.compartment_id)
        live.sim.close(first.compartment_id)
        stored = ok(courier.post(f"{API}/parcels/{second}/confirm"))
        code = stored["code"]
        assert sorted(code["opens_parcels"]) == sorted([first.id, second])
        # another carrier's courier is never sent to that compartment
        other = ok(
            rival.post(
                f"{API}/deposits",
                json={"parcel": parcel("R-1", size="M", email=EMAIL), "fits_beside": True},
            ),
            201,
        )
        assert other["door"]["compartment_id"] != first.compartment_id
        live.sim.close(other["door"]["compartment_id"])

        before = pulses(live)
        collected = _collect(live, code["pin"])
        assert collected["doors"] == [
            {
                **collected["doors"][0],  # type: ignore[index]
                "compartment_id": first.compartment_id,
                "opened": True,
                "parcel_ids": [first.id, second],
            }
        ]
        assert pulsed_since(live, before) == {first.compartment_id: 1}  # once, for both
        assert parcel_state(staff, first.id) == parcel_state(staff, second) == "collected"
        audit = ok(staff.get(f"{API}/audit", params={"compartment": first.compartment_id}))
        actions = {(e["parcel_id"], e["action"]) for e in audit}
        for pid in (first.id, second):
            assert (pid, "parcel.stored") in actions
            assert (pid, "parcel.collected") in actions
        # the older code opens nothing any more: both parcels are gone
        with live.client(None, local_address="127.0.0.3") as kiosk:
            problem(kiosk.post(f"{API}/collect", json={"code": first.pin}), 404, "code_invalid")


def _sent_to_grace(live: LiveStation, courier: httpx.Client) -> tuple[int, str]:
    """A parcel for Grace, stored, its message sent by mail (so a delivery row holds her
    address), then collected."""
    stored = store(live, courier, tracking="G-1", email=EMAIL, phone=PHONE, name=NAME)
    live.ctx.notifier.run_once()
    _collect(live, stored.pin)
    return stored.id, stored.pin


def test_retention_erases_personal_data_when_the_clock_moves(tmp_path: Path) -> None:
    with smtp_server() as server:
        mail = {"smtp_host": "127.0.0.1", "smtp_port": server.port, "retention_days": 30}
        with (
            live_station(tmp_path, background=False, **mail) as live,
            live.client("courier") as courier,
            live.client("staff") as staff,
        ):
            pid, _ = _sent_to_grace(live, courier)
            assert server.mailbox.messages, "the code went out by mail"
            [erase] = [job for _, job in jobs(live.ctx) if job.__name__ == "erase_personal_data"]
            live.clock.advance(days=29)
            erase()
            assert _traces(live) == {NAME.encode(), EMAIL.encode(), PHONE.encode()}
            live.clock.advance(days=2)
            erase()
            row = ok(staff.get(f"{API}/parcels/{pid}"))
            assert row["recipient_name"].startswith("person-")
            assert row["recipient_email"] is None
            assert row["recipient_phone"] is None
            assert row["erased_at"] is not None
            assert _traces(live) == set()
            audit = ok(staff.get(f"{API}/audit", params={"action": "parcel.personal_data"}))
            assert row["recipient_name"] in audit[0]["detail"]


def test_export_and_erasure_of_a_person_leave_no_trace(tmp_path: Path) -> None:
    with smtp_server() as server:
        mail = {"smtp_host": "127.0.0.1", "smtp_port": server.port}
        with (
            live_station(tmp_path, background=False, **mail) as live,
            live.client("courier") as courier,
            live.client("staff") as staff,
        ):
            now = datetime.now(UTC)
            with live.runtime.station.db.write() as session:
                entry = Recipient(
                    name=NAME, unit="4b", email=EMAIL, phone=PHONE, created_at=now, updated_at=now
                )
                session.add(entry)
                session.flush()
                rid = entry.id
            pid, _ = _sent_to_grace(live, courier)
            waiting = store(live, courier, tracking="G-2", phone=PHONE, name=NAME)

            # couriers see nothing of it
            problem(courier.get(f"{API}/recipients/{rid}/export"), 403, "forbidden")
            exported = ok(staff.get(f"{API}/recipients/{rid}/export"))
            assert exported["directory_entry"]["email"] == EMAIL
            assert {p["id"] for p in exported["parcels"]} == {pid, waiting.id}
            assert any(m["deliveries"] for m in exported["messages"])
            assert {a["parcel_id"] for a in exported["audit"]} == {pid, waiting.id}
            by_phone = ok(staff.post(f"{API}/people/export", json={"phone": PHONE}))
            assert {p["id"] for p in by_phone["parcels"]} == {pid, waiting.id}

            refused = problem(
                staff.delete(f"{API}/recipients/{rid}"), 409, "person_has_parcels_waiting"
            )
            assert str(waiting.id) in refused["detail"]
            _collect(live, waiting.pin)
            assert _traces(live)  # still there before the erasure
            erased = ok(staff.delete(f"{API}/recipients/{rid}"))
            assert sorted(erased["parcel_ids"]) == sorted([pid, waiting.id])
            assert erased["recipient_id"] == rid
            assert _traces(live) == set()
            problem(staff.get(f"{API}/recipients/{rid}/export"), 404, "recipient_not_found")
            audit = ok(staff.get(f"{API}/audit", params={"action": "person.erased"}))
            assert erased["pseudonym"] in audit[0]["detail"]
            # a person not in the directory, by address; nothing of theirs is left to find
            again = ok(staff.post(f"{API}/people/export", json={"email": EMAIL}))
            assert again["parcels"] == []
            problem(staff.post(f"{API}/people/erase", json={}), 422, "invalid_request")
