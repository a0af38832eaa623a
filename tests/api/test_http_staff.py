"""Staff through HTTP: compartments and their detail, doors opened with a reason, out of
service and back. Parcels and the audit log: test_http_staff_parcels.py; the station's
health: test_http_station_health.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.api.http_helpers import (
    API,
    COMPARTMENTS,
    SIZES,
    compartment,
    deposit,
    ids_of,
    kiosk_collect,
    ok,
    parcel,
    parcel_state,
    problem,
    pulsed_since,
    pulses,
    store,
)
from tests.api.live import live_station


def test_compartments_list_with_state_and_size_filters(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        every = ok(staff.get(f"{API}/compartments"))
        assert ids_of(every) == list(COMPARTMENTS)
        assert {c["state"] for c in every} == {"free"}
        assert [c["size"] for c in every] == [SIZES[cid] for cid in COMPARTMENTS]
        assert every[0]["where"]["text"] == "first column from the left, top"

        stored = store(live, courier, tracking="OCC")  # compartment 1: occupied
        reserved_pid, reserved_cid = deposit(courier, tracking="RES")  # 2: reserved
        ok(staff.post(f"{API}/compartments/3/out-of-service", json={"reason": "hinge loose"}))
        live.sim.jam(4)
        problem(
            staff.post(f"{API}/compartments/4/open", json={"reason": "check"}),
            503,
            "door_did_not_open",
        )

        def listed(**params: str) -> list[dict[str, Any]]:
            body: list[dict[str, Any]] = ok(staff.get(f"{API}/compartments", params=params))
            return body

        occupied = listed(state="occupied")
        assert ids_of(occupied) == [stored.compartment_id]
        assert occupied[0]["parcel_id"] == stored.id
        reserved = listed(state="reserved")
        assert ids_of(reserved) == [reserved_cid]
        assert reserved[0]["parcel_id"] == reserved_pid
        out = listed(state="out_of_service")
        assert ids_of(out) == [3]
        assert out[0]["note"] == "hinge loose"
        assert out[0]["condition"] == "out_of_service"
        assert ids_of(listed(state="fault")) == [4]
        assert ids_of(listed(state="free")) == list(range(5, 13))
        assert ids_of(listed(size="M")) == [3, 4, 9, 10]
        assert ids_of(listed(state="free", size="S")) == [7, 8]
        for bad in ({"state": "broken"}, {"size": "XXL"}):
            problem(staff.get(f"{API}/compartments", params=bad), 422, "invalid_request")


def test_compartment_detail_shows_parcel_history_and_alerts(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        stored = store(live, courier, tracking="HIST")
        detail = ok(staff.get(f"{API}/compartments/{stored.compartment_id}"))
        assert detail["compartment"]["id"] == stored.compartment_id
        assert detail["compartment"]["state"] == "occupied"
        assert detail["compartment"]["parcel_id"] == stored.id
        assert detail["parcel"]["id"] == stored.id
        assert detail["parcel"]["tracking_number"] == "HIST"
        assert detail["alerts"] == []
        actions = [entry["action"] for entry in detail["history"]]
        assert "door.opened" in actions
        opened = [e for e in detail["history"] if e["action"] == "door.opened"]
        assert {e["parcel_id"] for e in opened} == {stored.id}  # the door names its parcel
        assert "parcel.reserved" in actions
        assert "parcel.stored" in actions
        assert all(e["compartment_id"] == stored.compartment_id for e in detail["history"])
        history_ids = ids_of(detail["history"])
        assert history_ids == sorted(history_ids, reverse=True)  # newest first

        free = ok(staff.get(f"{API}/compartments/12"))
        assert free["compartment"]["state"] == "free"
        assert free["parcel"] is None
        assert [e["action"] for e in free["history"]] == ["compartment.added"]

        problem(staff.get(f"{API}/compartments/99"), 404, "compartment_not_found")
        problem(staff.get(f"{API}/compartments/0"), 422, "invalid_request")
        problem(staff.get(f"{API}/compartments/abc"), 422, "invalid_request")


def test_staff_open_a_door_only_with_a_reason(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        stored = store(live, courier, tracking="INSIDE")
        cid = stored.compartment_id
        before = pulses(live)
        for body in (None, {"why": "x"}):
            answer = staff.post(f"{API}/compartments/{cid}/open", json=body)
            problem(answer, 422, "invalid_request")
        for body in ({}, {"reason": ""}, {"reason": "   "}):
            answer = staff.post(f"{API}/compartments/{cid}/open", json=body)
            problem(answer, 422, "reason_required")
        assert pulsed_since(live, before) == {}

        door = ok(staff.post(f"{API}/compartments/{cid}/open", json={"reason": "customer call"}))
        assert door["compartment_id"] == cid
        assert door["opened"] is True
        assert door["outcome"] == "opened"
        assert door["where"]["text"] == "first column from the left, top"
        assert pulsed_since(live, before) == {cid: 1}
        assert live.sim.state(cid).latched is False
        # what is inside stays as it is: the parcel is still stored and collectable
        assert parcel_state(staff, stored.id) == "stored"
        assert compartment(staff, cid)["state"] == "occupied"
        entries = ok(staff.get(f"{API}/audit", params={"compartment": cid, "action": "door."}))
        assert entries[0]["action"] == "door.opened"
        assert entries[0]["actor"] == "staff:staff"
        assert "customer call" in entries[0]["detail"]

        # a free compartment opens too; an unknown one is a 404 and pulses nothing
        ok(staff.post(f"{API}/compartments/12/open", json={"reason": "cleaning"}))
        assert pulsed_since(live, before) == {cid: 1, 12: 1}
        problem(
            staff.post(f"{API}/compartments/99/open", json={"reason": "x"}),
            404,
            "compartment_not_found",
        )
        assert pulsed_since(live, before) == {cid: 1, 12: 1}


def test_out_of_service_then_clear_fault(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        problem(staff.post(f"{API}/compartments/1/out-of-service", json={}), 422, "invalid_request")
        out = ok(staff.post(f"{API}/compartments/1/out-of-service", json={"reason": "wet"}))
        assert out["id"] == 1
        assert out["state"] == "out_of_service"
        assert out["condition"] == "out_of_service"
        assert out["note"] == "wet"

        # deposits go elsewhere while it is out of service
        _, cid = deposit(courier, tracking="ELSEWHERE")
        assert cid == 2
        assert live.sim.pulses(1) == 0

        cleared = ok(staff.post(f"{API}/compartments/1/clear-fault", json={"note": "dried"}))
        assert cleared["state"] == "free"
        assert cleared["condition"] == "ok"
        problem(staff.post(f"{API}/compartments/1/clear-fault", json={}), 409, "invalid_transition")
        _, cid = deposit(courier, tracking="BACK-IN-SERVICE")
        assert cid == 1

        # a compartment held but not yet opened: the reservation is released
        held = ok(courier.post(f"{API}/parcels", json={**parcel("HELD"), "reserve": True}), 201)
        held_cid = held["compartment_id"]
        ok(staff.post(f"{API}/compartments/{held_cid}/out-of-service", json={"reason": "lock"}))
        released = ok(staff.get(f"{API}/parcels/{held['id']}"))
        assert released["state"] == "announced"
        assert released["compartment_id"] is None

        # a stored parcel in a compartment taken out of service stays collectable
        stored = store(live, courier, tracking="STAYS")
        ok(
            staff.post(
                f"{API}/compartments/{stored.compartment_id}/out-of-service",
                json={"reason": "door squeaks"},
            )
        )
        assert compartment(staff, stored.compartment_id)["state"] == "out_of_service"
        before = pulses(live)
        ok(kiosk_collect(live, stored.pin))
        assert pulsed_since(live, before) == {stored.compartment_id: 1}
        problem(
            staff.post(f"{API}/compartments/99/out-of-service", json={"reason": "x"}),
            404,
            "compartment_not_found",
        )
        problem(
            staff.post(f"{API}/compartments/99/clear-fault", json={}),
            404,
            "compartment_not_found",
        )
