"""Couriers through HTTP: deposit, confirm, announce, reserve, stuck doors, against the
served app, the real driver and the simulated boards (other carriers, returns and take-back:
test_http_courier_carriers.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from locker.services import staff as staff_service
from tests.api.http_helpers import (
    API,
    SIZES,
    compartment,
    compartment_state_of,
    deposit,
    ok,
    parcel,
    parcel_state,
    parse_time,
    problem,
    pulsed_since,
    pulses,
)
from tests.api.live import live_station, wait_until


def test_deposit_by_size_opens_the_door_and_confirm_stores_with_a_code(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client("courier") as courier:
        before = pulses(live)
        response = courier.post(
            f"{API}/deposits", json={"parcel": parcel("TRK-S", size="S", email="ada@example.org")}
        )
        body = ok(response, 201)
        pid = body["parcel"]["id"]
        cid = body["door"]["compartment_id"]
        assert body["parcel"]["state"] == "reserved"
        assert body["parcel"]["carrier"] == "Parcel Co"
        assert body["parcel"]["courier"] == "courier:courier"
        assert body["parcel"]["compartment_id"] == cid == 1  # the smallest S, lowest id
        assert body["door"] == {
            "compartment_id": 1,
            "outcome": "opened",
            "opened": True,
            "where": {
                "column": 1,
                "columns": 3,
                "row": 1,
                "rows": 4,
                "height": "top",
                "text": "first column from the left, top",
            },
            "parcel_ids": [pid],
        }
        assert f"/api/v1/parcels/{pid}/confirm" in body["next"]
        # the simulator: this door (and only this one) was pulsed once and is unlatched
        assert pulsed_since(live, before) == {1: 1}
        assert live.sim.state(1).latched is False
        assert live.sim.state(1).door_open is True
        assert parcel_state(courier, pid) == "reserved"

        live.sim.put(cid)
        live.sim.close(cid)
        stored = ok(courier.post(f"{API}/parcels/{pid}/confirm"))
        assert stored["parcel"]["state"] == "stored"
        assert stored["parcel"]["compartment_id"] == 1
        code = stored["code"]
        assert re.fullmatch(r"[0-9]{10}", code["pin"]), code
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", code["qr_token"]), code
        assert code["opens_parcels"] == [pid]
        assert code["qr_png"] == "/api/v1/qr.png"
        assert code["qr_svg"] == "/api/v1/qr.svg"
        stored_at = parse_time(stored["parcel"]["stored_at"])
        assert parse_time(stored["parcel"]["deadline"]) == stored_at + timedelta(days=7)
        assert parse_time(code["expires_at"]) == stored_at + timedelta(days=7)
        assert stored["parcel"]["reserved_until"] is None

        # the code is handed out once: a second confirm stores nothing new
        again = ok(courier.post(f"{API}/parcels/{pid}/confirm"))
        assert again["parcel"]["state"] == "stored"
        assert again["code"] is None
        assert pulsed_since(live, before) == {1: 1}  # confirming never pulses a door

        assert parcel_state(courier, pid) == "stored"
        assert compartment_state_of(live, 1) == "occupied"


def test_deposit_by_dimensions_picks_the_smallest_compartment_they_fit(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client("courier") as courier:
        # 150 mm high does not fit an S (90 mm) but an M (190 mm), in any orientation
        pid, cid = deposit(courier, tracking="DIM-M", size=None, dims=(600, 150, 300))
        assert SIZES[cid] == "M"
        assert cid == 3
        body = ok(courier.get(f"{API}/parcels/{pid}"))
        assert body["size"] is None
        assert body["dimensions"] == {"width_mm": 600, "height_mm": 150, "depth_mm": 300}

        _, cid_l = deposit(courier, tracking="DIM-L", size=None, dims=(400, 380, 300))
        assert SIZES[cid_l] == "L"
        assert cid_l == 5

        _, cid_s = deposit(courier, tracking="DIM-S", size=None, dims=(100, 50, 200))
        assert SIZES[cid_s] == "S"

        before = pulses(live)
        too_big = courier.post(
            f"{API}/deposits", json={"parcel": parcel("HUGE", size=None, dims=(700, 700, 700))}
        )
        problem(too_big, 409, "no_free_compartment")
        assert pulsed_since(live, before) == {}


def test_the_watcher_stores_first_and_confirm_hands_the_code_over_once(tmp_path: Path) -> None:
    with live_station(tmp_path, background=True) as live, live.client("courier") as courier:
        pid, cid = deposit(courier, tracking="WATCHED")
        live.sim.put(cid)
        live.sim.close(cid)
        wait_until(lambda: parcel_state(courier, pid) == "stored")

        first = ok(courier.post(f"{API}/parcels/{pid}/confirm"))
        assert first["parcel"]["state"] == "stored"
        assert first["code"] is not None
        assert first["code"]["opens_parcels"] == [pid]
        second = ok(courier.post(f"{API}/parcels/{pid}/confirm"))
        assert second["parcel"]["state"] == "stored"
        assert second["code"] is None

        # the handed-over code is the parcel's real code
        before = pulses(live)
        with live.client(None) as kiosk:
            opened = ok(kiosk.post(f"{API}/collect", json={"code": first["code"]["pin"]}))
        assert [d["compartment_id"] for d in opened["doors"]] == [cid]
        assert pulsed_since(live, before) == {cid: 1}


def test_announce_reserve_and_deposit_by_parcel_id(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        before = pulses(live)
        announced = ok(courier.post(f"{API}/parcels", json=parcel("ANN-1")), 201)
        assert announced["state"] == "announced"
        assert announced["compartment_id"] is None
        assert announced["reserved_until"] is None
        assert announced["carrier"] == "Parcel Co"

        held = ok(courier.post(f"{API}/parcels", json={**parcel("ANN-2"), "reserve": True}), 201)
        assert held["state"] == "reserved"
        held_cid = held["compartment_id"]
        assert held_cid == 1
        assert parse_time(held["reserved_until"]) == parse_time(held["created_at"]) + timedelta(
            minutes=15
        )
        assert compartment_state_of(live, held_cid) == "reserved"
        assert pulsed_since(live, before) == {}  # announcing and reserving open nothing

        # deposit the announced one: the station holds a compartment and opens it
        body = ok(courier.post(f"{API}/deposits", json={"parcel_id": announced["id"]}), 201)
        assert body["parcel"]["id"] == announced["id"]
        assert body["parcel"]["state"] == "reserved"
        first_cid = body["door"]["compartment_id"]
        assert first_cid != held_cid
        assert body["door"]["opened"] is True
        # deposit the reserved one: exactly the compartment held for it opens
        body = ok(courier.post(f"{API}/deposits", json={"parcel_id": held["id"]}), 201)
        assert body["door"]["compartment_id"] == held_cid
        assert pulsed_since(live, before) == {first_cid: 1, held_cid: 1}

        # the per-parcel endpoints: reserve, then deposit
        third = ok(courier.post(f"{API}/parcels", json=parcel("ANN-3")), 201)
        reserved = ok(courier.post(f"{API}/parcels/{third['id']}/reserve"))
        assert reserved["state"] == "reserved"
        problem(courier.post(f"{API}/parcels/{third['id']}/reserve"), 409, "invalid_transition")
        opened = ok(courier.post(f"{API}/parcels/{third['id']}/deposit"))
        assert opened["door"]["compartment_id"] == reserved["compartment_id"]
        assert live.sim.state(reserved["compartment_id"]).latched is False

        # a stored parcel cannot be deposited again, and no door opens for trying
        cid = held_cid
        live.sim.put(cid)
        live.sim.close(cid)
        ok(courier.post(f"{API}/parcels/{held['id']}/confirm"))
        before = pulses(live)
        problem(courier.post(f"{API}/parcels/{held['id']}/deposit"), 409, "invalid_transition")
        problem(
            courier.post(f"{API}/deposits", json={"parcel_id": held["id"]}),
            409,
            "invalid_transition",
        )
        problem(courier.post(f"{API}/parcels/9999/deposit"), 404, "parcel_not_found")
        assert pulsed_since(live, before) == {}

        # a reservation whose door was never opened runs out and frees the compartment
        fourth = ok(courier.post(f"{API}/parcels", json={**parcel("ANN-4"), "reserve": True}), 201)
        assert compartment_state_of(live, fourth["compartment_id"]) == "reserved"
        live.clock.advance(minutes=16)
        staff_service.expire(live.runtime.station)
        released = ok(staff.get(f"{API}/parcels/{fourth['id']}"))
        assert released["state"] == "announced"
        assert released["compartment_id"] is None
        assert compartment_state_of(live, fourth["compartment_id"]) == "free"


def test_no_free_compartment_is_a_409_problem(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client("courier") as courier:
        xl = [cid for cid, size in SIZES.items() if size == "XL"]
        got = sorted(deposit(courier, tracking=f"XL-{i}", size="XL")[1] for i in range(len(xl)))
        assert got == xl

        before = pulses(live)
        body = problem(
            courier.post(f"{API}/deposits", json={"parcel": parcel("XL-extra", size="XL")}),
            409,
            "no_free_compartment",
        )
        assert "compartment" in body["detail"]
        problem(
            courier.post(f"{API}/parcels", json={**parcel("XL-held", size="XL"), "reserve": True}),
            409,
            "no_free_compartment",
        )
        # an announced XL cannot be deposited either, and stays announced
        announced = ok(courier.post(f"{API}/parcels", json=parcel("XL-ann", size="XL")), 201)
        problem(
            courier.post(f"{API}/deposits", json={"parcel_id": announced["id"]}),
            409,
            "no_free_compartment",
        )
        assert parcel_state(courier, announced["id"]) == "announced"
        assert pulsed_since(live, before) == {}
        # smaller parcels still find room
        _, cid = deposit(courier, tracking="small", size="S")
        assert SIZES[cid] == "S"


def test_door_stuck_report_opens_another_compartment_and_flags_the_first(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        # something already lies inside: that door did open, so no other is given
        full_pid, full_cid = deposit(courier, tracking="FULL")
        live.sim.put(full_cid)
        before = pulses(live)
        problem(courier.post(f"{API}/parcels/{full_pid}/door-stuck"), 409, "invalid_transition")
        assert pulsed_since(live, before) == {}
        assert compartment(staff, full_cid)["state"] == "reserved"
        live.sim.close(full_cid)
        ok(courier.post(f"{API}/parcels/{full_pid}/confirm"))

        pid, first = deposit(courier, tracking="STUCK")
        before = pulses(live)
        body = ok(courier.post(f"{API}/parcels/{pid}/door-stuck"))
        second = body["door"]["compartment_id"]
        assert second != first
        assert SIZES[second] == "S"
        assert body["door"]["opened"] is True
        assert body["parcel"]["state"] == "reserved"
        assert body["parcel"]["compartment_id"] == second
        assert pulsed_since(live, before) == {second: 1}

        flagged = ok(staff.get(f"{API}/compartments/{first}"))
        assert flagged["compartment"]["state"] == "fault"
        assert flagged["compartment"]["condition"] == "fault"
        assert flagged["compartment"]["parcel_id"] is None
        assert any(a["kind"] == "door_fault" for a in flagged["alerts"])
        alerts = ok(staff.get(f"{API}/alerts"))
        assert [a["compartment_id"] for a in alerts if a["kind"] == "door_fault"] == [first]

        live.sim.put(second)
        live.sim.close(second)
        stored = ok(courier.post(f"{API}/parcels/{pid}/confirm"))
        assert stored["parcel"]["compartment_id"] == second
        assert stored["code"] is not None
        problem(courier.post(f"{API}/parcels/{pid}/door-stuck"), 409, "invalid_transition")
        assert ok(staff.get(f"{API}/compartments/{second}"))["compartment"]["state"] == "occupied"


def test_confirm_checks_the_door_is_closed_and_the_parcel_inside(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client("courier") as courier:
        pid, cid = deposit(courier, tracking="OPEN-DOOR")
        live.sim.put(cid)  # in, but the door is still open
        body = problem(courier.post(f"{API}/parcels/{pid}/confirm"), 409, "door_not_closed")
        assert str(cid) in body["detail"]
        assert parcel_state(courier, pid) == "reserved"
        live.sim.close(cid)
        stored = ok(courier.post(f"{API}/parcels/{pid}/confirm"))
        assert stored["parcel"]["state"] == "stored"
        assert stored["code"] is not None
        assert live.sim.pulses(cid) == 1  # the refused confirm did not pulse the door again

        # a door closed on an empty compartment: the IR strip sees nothing
        empty_pid, empty_cid = deposit(courier, tracking="EMPTY")
        live.sim.close(empty_cid)
        problem(courier.post(f"{API}/parcels/{empty_pid}/confirm"), 409, "parcel_not_detected")
        assert parcel_state(courier, empty_pid) == "reserved"
        assert live.sim.pulses(empty_cid) == 1

        # a confirm before any door was opened is refused too
        announced = ok(courier.post(f"{API}/parcels", json=parcel("NOT-YET")), 201)
        problem(courier.post(f"{API}/parcels/{announced['id']}/confirm"), 409, "invalid_transition")
        problem(courier.post(f"{API}/parcels/9999/confirm"), 404, "parcel_not_found")
