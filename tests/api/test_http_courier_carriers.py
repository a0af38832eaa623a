"""Couriers of one carrier through HTTP never see, open, confirm or store another carrier's
parcel (nor learn anything from trying); returns and take-backs after the deadline."""

from __future__ import annotations

from pathlib import Path

from sim.faults import Fault
from tests.api.http_helpers import (
    API,
    compartment_state_of,
    deposit,
    ok,
    parcel,
    parcel_state,
    problem,
    pulsed_since,
    pulses,
)
from tests.api.live import LiveStation, live_station, wait_until


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
        assert compartment_state_of(live, cid) == "reserved"

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
        wait_until(lambda: compartment_state_of(live, cid) == "free")


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
