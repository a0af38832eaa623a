"""Couriers through HTTP: deposit, confirm, announce, reserve, stuck doors, other carriers,
returns and take-back, against the served app, the real driver and the simulated boards."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from locker.services import staff as staff_service
from sim.faults import Fault
from tests.api.http_helpers import (
    API,
    SIZES,
    compartment,
    deposit,
    ok,
    parcel,
    parcel_state,
    parse_time,
    problem,
    pulsed_since,
    pulses,
)
from tests.api.live import LiveStation, live_station, wait_until


def _compartment_state(live: LiveStation, cid: int) -> str:
    with live.client("staff") as staff:
        state: str = ok(staff.get(f"{API}/compartments/{cid}"))["compartment"]["state"]
    return state


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
        assert _compartment_state(live, 1) == "occupied"


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
        assert _compartment_state(live, held_cid) == "reserved"
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
        assert _compartment_state(live, fourth["compartment_id"]) == "reserved"
        live.clock.advance(minutes=16)
        staff_service.expire(live.runtime.station)
        released = ok(staff.get(f"{API}/parcels/{fourth['id']}"))
        assert released["state"] == "announced"
        assert released["compartment_id"] is None
        assert _compartment_state(live, fourth["compartment_id"]) == "free"


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


def test_another_carrier_cannot_see_or_touch_the_parcel(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("rival") as rival,
        live.client("staff") as staff,
    ):
        announced = ok(courier.post(f"{API}/parcels", json=parcel("MINE-1")), 201)
        pid, cid = deposit(courier, tracking="MINE-2")
        missing = problem(rival.get(f"{API}/parcels/9999"), 404, "parcel_not_found")

        before = pulses(live)
        for target in (announced["id"], pid):
            got = problem(rival.get(f"{API}/parcels/{target}"), 404, "parcel_not_found")
            assert set(got) == set(missing)
            for action in ("reserve", "deposit", "door-stuck", "take-back"):
                problem(rival.post(f"{API}/parcels/{target}/{action}"), 404, "parcel_not_found")
            problem(
                rival.post(f"{API}/deposits", json={"parcel_id": target}), 404, "parcel_not_found"
            )
        assert pulsed_since(live, before) == {}
        assert parcel_state(courier, announced["id"]) == "announced"
        assert parcel_state(courier, pid) == "reserved"
        assert _compartment_state(live, cid) == "reserved"

        # the rival's lists do not show the parcel; staff see everything
        live.sim.put(cid)
        live.sim.close(cid)
        ok(courier.post(f"{API}/parcels/{pid}/confirm"))
        assert ok(rival.get(f"{API}/returns")) == []
        assert ok(staff.get(f"{API}/parcels/{pid}"))["carrier"] == "Parcel Co"
        # the rival's own parcel is his to see
        own = ok(rival.post(f"{API}/parcels", json=parcel("THEIRS")), 201)
        assert ok(rival.get(f"{API}/parcels/{own['id']}"))["carrier"] == "Other Express"
        problem(courier.get(f"{API}/parcels/{own['id']}"), 404, "parcel_not_found")


def test_another_carrier_learns_nothing_from_confirming_an_open_door(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("rival") as rival,
    ):
        pid, _ = deposit(courier, tracking="MINE")
        # door still open: to the rival, the parcel does not exist (not "door not closed")
        problem(rival.post(f"{API}/parcels/{pid}/confirm"), 404, "parcel_not_found")
        assert parcel_state(courier, pid) == "reserved"


def test_another_carrier_cannot_store_the_parcel_and_swallow_its_code(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("rival") as rival,
        live.client("staff") as staff,
    ):
        pid, cid = deposit(courier, tracking="MINE")
        live.sim.put(cid)
        live.sim.close(cid)
        # door closed: the rival's confirm must neither store it nor consume its code
        problem(rival.post(f"{API}/parcels/{pid}/confirm"), 404, "parcel_not_found")
        assert parcel_state(courier, pid) == "reserved"
        stored_by = ok(staff.get(f"{API}/audit", params={"parcel": pid, "action": "parcel.stored"}))
        assert all(entry["actor"] != "courier:rival" for entry in stored_by), stored_by
        mine = ok(courier.post(f"{API}/parcels/{pid}/confirm"))
        assert mine["parcel"]["state"] == "stored"
        assert mine["code"] is not None, "the owner's confirm must hand over the code"


def _store_watched(live: LiveStation, courier_name: str, tracking: str) -> tuple[int, int, str]:
    """Store a parcel on a station with the background watcher; returns (id, cid, pin)."""
    with live.client(courier_name) as courier:
        pid, cid = deposit(courier, tracking=tracking)
        live.sim.put(cid)
        live.sim.close(cid)
        wait_until(lambda: parcel_state(courier, pid) == "stored")
        code = ok(courier.post(f"{API}/parcels/{pid}/confirm"))["code"]
        assert code is not None
        return pid, cid, code["pin"]


def test_returns_and_take_back_after_the_deadline(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=True, expiry_every_s=0.05) as live,
        live.client("courier") as courier,
        live.client("rival") as rival,
        live.client("staff") as staff,
    ):
        pid, cid, pin = _store_watched(live, "courier", "BACK-1")
        rival_pid, _, _ = _store_watched(live, "rival", "BACK-2")
        assert ok(courier.get(f"{API}/returns")) == []
        problem(courier.post(f"{API}/parcels/{pid}/take-back"), 409, "invalid_transition")

        live.clock.advance(days=7, minutes=1)
        wait_until(lambda: parcel_state(courier, pid) == "expired")
        wait_until(lambda: parcel_state(rival, rival_pid) == "expired")

        assert [p["id"] for p in ok(courier.get(f"{API}/returns"))] == [pid]
        assert [p["id"] for p in ok(rival.get(f"{API}/returns"))] == [rival_pid]
        assert {p["id"] for p in ok(staff.get(f"{API}/returns"))} == {pid, rival_pid}
        problem(rival.post(f"{API}/parcels/{pid}/take-back"), 404, "parcel_not_found")
        with live.client(None, local_address="127.0.0.2") as kiosk:
            problem(kiosk.post(f"{API}/collect", json={"code": pin}), 404, "code_invalid")

        before = pulses(live)
        body = ok(courier.post(f"{API}/parcels/{pid}/take-back"))
        assert body["door"]["compartment_id"] == cid
        assert body["door"]["opened"] is True
        assert body["parcel"]["state"] == "returned"
        assert body["parcel"]["finished_at"] is not None
        assert pulsed_since(live, before) == {cid: 1}
        assert live.sim.state(cid).latched is False

        assert ok(courier.get(f"{API}/returns")) == []
        problem(courier.post(f"{API}/parcels/{pid}/take-back"), 409, "invalid_transition")
        live.sim.take(cid)
        live.sim.close(cid)
        wait_until(lambda: _compartment_state(live, cid) == "free")


def test_a_confirm_right_after_the_watcher_stored_the_parcel_gets_its_code(
    tmp_path: Path,
) -> None:
    """The watcher stores every closed deposit of one round, one after the other: the
    first is stored while the next one's door is still being read (a board that answers
    late makes that read take a while). A courier confirming in that moment must get
    the code, not "its code was handed over already"."""
    with (
        live_station(tmp_path, background=True) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        ok(staff.post(f"{API}/compartments/2/out-of-service", json={"reason": "spread"}))
        first, first_cid = deposit(courier, tracking="FIRST")
        second, second_cid = deposit(courier, tracking="SECOND")
        assert (first_cid, second_cid) == (1, 7)  # board 0, board 1
        for cid in (first_cid, second_cid):
            live.sim.put(cid)
            live.sim.close(cid)
        # board 1 now answers late (well within the driver's deadline)
        live.sim.buses["main"].inject(Fault.LATE_ANSWER, board=1, delay_s=0.15)

        wait_until(lambda: parcel_state(courier, first) == "stored")
        answer = ok(courier.post(f"{API}/parcels/{first}/confirm"))
        assert answer["parcel"]["state"] == "stored"
        assert answer["code"] is not None, answer["detail"]
        wait_until(lambda: parcel_state(courier, second) == "stored")
