"""Hardware faults through HTTP: a door that does not open becomes a clear 503 problem and a
`fault` compartment, never a 500 (bad requests: test_http_bad_input.py)."""

from __future__ import annotations

from pathlib import Path

from sim.faults import Fault
from tests.api.http_helpers import (
    API,
    SIZES,
    compartment,
    ok,
    parcel,
    parcel_state,
    problem,
    pulsed_since,
    pulses,
    store,
)
from tests.api.live import live_station, wait_until


def test_stuck_latch_during_a_deposit_gives_another_compartment(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        live.sim.jam(1)  # the compartment an S parcel gets first
        before = pulses(live)
        answer = courier.post(f"{API}/deposits", json={"parcel": parcel("JAM", size="S")})
        body = problem(answer, 503, "door_did_not_open")
        door = body["door"]
        assert door["compartment_id"] == 1
        assert door["opened"] is False
        assert door["outcome"] == "refused"
        assert door["where"]["text"] == "first column from the left, top"
        [pid] = door["parcel_ids"]
        assert f"/api/v1/parcels/{pid}/deposit" in body["next"]
        # the latch never let go; the driver pulses at most once more after a read-back
        assert live.sim.state(1).latched is True
        assert 1 <= pulsed_since(live, before).get(1, 0) <= 2
        assert set(pulsed_since(live, before)) == {1}

        flagged = compartment(staff, 1)
        assert flagged["state"] == "fault"
        assert flagged["parcel_id"] is None
        back = ok(courier.get(f"{API}/parcels/{pid}"))
        assert back["state"] == "announced"
        assert back["compartment_id"] is None
        assert [a["compartment_id"] for a in ok(staff.get(f"{API}/alerts"))] == [1]

        before = pulses(live)
        retry = ok(courier.post(f"{API}/parcels/{pid}/deposit"))
        assert retry["door"]["opened"] is True
        second = retry["door"]["compartment_id"]
        assert second != 1
        assert SIZES[second] == "S"
        assert retry["parcel"]["state"] == "reserved"
        assert pulsed_since(live, before) == {second: 1}

        live.sim.put(second)
        live.sim.close(second)
        assert ok(courier.post(f"{API}/parcels/{pid}/confirm"))["code"] is not None

        # fixed and back in service: the fault and its alert are gone
        live.sim.jam(1, False)
        assert ok(staff.post(f"{API}/compartments/1/clear-fault", json={"note": "oiled"}))[
            "state"
        ] == ("free")
        assert ok(staff.get(f"{API}/alerts")) == []


def test_a_deposit_whose_door_cannot_be_read_keeps_its_compartment(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        # the board acts on the unlock but its answers are lost: the door did open
        live.sim.inject(1, Fault.NO_ANSWER)
        answer = courier.post(f"{API}/deposits", json={"parcel": parcel("UNREAD")})
        body = problem(answer, 503, "door_did_not_open")
        assert body["door"]["compartment_id"] == 1
        assert body["door"]["outcome"] == "no_answer"
        [pid] = body["door"]["parcel_ids"]
        assert f"/api/v1/parcels/{pid}/confirm" in body["next"]
        assert f"/api/v1/parcels/{pid}/door-stuck" in body["next"]
        assert live.sim.state(1).latched is False
        assert live.sim.pulses(1) == 1  # never pulsed blindly again
        held = ok(courier.get(f"{API}/parcels/{pid}"))
        assert held["state"] == "reserved"
        assert held["compartment_id"] == 1
        assert compartment(staff, 1)["state"] == "fault"
        # the courier fills it and closes it; once the board answers, the confirm stores it
        live.sim.put(1)
        live.sim.close(1)
        live.sim.repair(1)
        stored = ok(courier.post(f"{API}/parcels/{pid}/confirm"))
        assert stored["parcel"]["state"] == "stored"
        assert stored["code"] is not None
        assert compartment(staff, 1)["state"] == "fault"  # until staff have looked
        assert ok(staff.post(f"{API}/compartments/1/clear-fault", json={}))["state"] == "occupied"

        # a board that is gone heard nothing: the door stayed shut; door-stuck moves on
        ok(staff.post(f"{API}/compartments/4/out-of-service", json={"reason": "keep free"}))
        live.sim.inject(3, Fault.GONE)  # board 0
        answer = courier.post(f"{API}/deposits", json={"parcel": parcel("SHUT", size="M")})
        body = problem(answer, 503, "door_did_not_open")
        assert body["door"]["compartment_id"] == 3
        [shut_pid] = body["door"]["parcel_ids"]
        assert live.sim.state(3).latched is True
        assert live.sim.pulses(3) == 0
        moved = ok(courier.post(f"{API}/parcels/{shut_pid}/door-stuck"))
        assert moved["door"]["compartment_id"] == 9  # the M on board 1
        assert moved["door"]["opened"] is True
        assert compartment(staff, 3)["state"] == "fault"
        assert compartment(staff, 3)["parcel_id"] is None
        live.sim.repair(3)


def test_simulator_endpoints_play_the_hands_at_the_doors(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("sim") as hands,
    ):
        doors = ok(hands.get(f"{API}/sim/doors"))
        assert [d["compartment_id"] for d in doors] == list(range(1, 13))
        assert all(d["latched"] and not d["open"] and not d["item"] for d in doors)
        pid = ok(courier.post(f"{API}/deposits", json={"parcel": parcel("HANDS")}), 201)["parcel"][
            "id"
        ]
        assert ok(hands.post(f"{API}/sim/doors/1/put"))["item"] is True
        closed = ok(hands.post(f"{API}/sim/doors/1/close"))
        assert closed == {
            "compartment_id": 1,
            "latched": True,
            "open": False,
            "item": True,
            "pulses": 1,
        }
        assert ok(courier.post(f"{API}/parcels/{pid}/confirm"))["parcel"]["state"] == "stored"
        problem(hands.post(f"{API}/sim/doors/99/close"), 404, "compartment_not_found")
        problem(hands.post(f"{API}/sim/doors/1/kick"), 422, "invalid_request")


def test_a_fault_injected_through_the_simulator_endpoint(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
        live.client("sim") as hands,
    ):
        injected = hands.post(f"{API}/sim/doors/1/fault", json={"fault": "stuck_latch"})
        assert injected.status_code == 200, injected.text
        assert injected.json()["compartment_id"] == 1
        answer = courier.post(f"{API}/deposits", json={"parcel": parcel("JAM-HTTP")})
        body = problem(answer, 503, "door_did_not_open")
        assert body["door"]["compartment_id"] == 1
        assert compartment(staff, 1)["state"] == "fault"
        assert ok(hands.delete(f"{API}/sim/doors/1/fault"))["latched"] is True
        ok(staff.post(f"{API}/compartments/1/clear-fault", json={}))
        [pid] = body["door"]["parcel_ids"]
        opened = ok(courier.post(f"{API}/parcels/{pid}/deposit"))
        assert opened["door"]["compartment_id"] == 1
        assert live.sim.state(1).latched is False
        errors = problem(
            hands.post(f"{API}/sim/doors/1/fault", json={"fault": "gremlins"}),
            422,
            "invalid_request",
        )["errors"]
        assert [e["where"] for e in errors] == ["body.fault"], errors


def test_a_board_gone_during_a_collection_keeps_the_parcel_and_its_code(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
        live.client(None, local_address="127.0.0.2") as kiosk,
    ):
        stored = store(live, courier, tracking="GONE")
        cid = stored.compartment_id
        live.sim.inject(cid, Fault.GONE)
        before = pulses(live)
        answer = kiosk.post(f"{API}/collect", json={"code": stored.pin})
        body = problem(answer, 503, "door_did_not_open")
        [door] = body["doors"]
        assert door["compartment_id"] == cid
        assert door["opened"] is False
        assert door["outcome"] == "no_answer"
        assert door["parcel_ids"] == [stored.id]
        assert any("staff" in step for step in body["next"])
        assert pulsed_since(live, before) == {}  # the board heard nothing
        assert live.sim.state(cid).latched is True
        assert parcel_state(staff, stored.id) == "stored"
        assert compartment(staff, cid)["state"] == "fault"
        assert any(a["kind"] == "door_fault" for a in ok(staff.get(f"{API}/alerts")))

        live.sim.repair(cid)
        ok(staff.post(f"{API}/compartments/{cid}/clear-fault", json={"note": "board replaced"}))
        before = pulses(live)
        collected = ok(kiosk.post(f"{API}/collect", json={"code": stored.pin}))
        assert [d["compartment_id"] for d in collected["doors"]] == [cid]
        assert collected["all_opened"] is True
        assert pulsed_since(live, before) == {cid: 1}
        assert parcel_state(staff, stored.id) == "collected"


def test_one_door_failing_in_a_grouped_collection(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
        live.client(None, local_address="127.0.0.2") as kiosk,
    ):
        old = store(live, courier, tracking="G-1", email="pat@example.org")  # board 0
        new = store(live, courier, tracking="G-2", email="pat@example.org")
        assert {old.compartment_id, new.compartment_id} == {1, 2}
        live.sim.jam(old.compartment_id)
        before = pulses(live)
        body = ok(kiosk.post(f"{API}/collect", json={"code": new.pin}))
        assert body["all_opened"] is False
        by_door = {d["compartment_id"]: d for d in body["doors"]}
        assert by_door[new.compartment_id]["opened"] is True
        assert by_door[old.compartment_id]["opened"] is False
        assert f"Compartment {old.compartment_id} did not open" in body["message"]
        assert len(body["next"]) == 3
        assert pulsed_since(live, before)[new.compartment_id] == 1
        assert parcel_state(staff, new.id) == "collected"
        assert parcel_state(staff, old.id) == "stored"
        assert compartment(staff, old.compartment_id)["state"] == "fault"

        # the same code still opens what did not open, once it is fixed
        live.sim.jam(old.compartment_id, False)
        ok(staff.post(f"{API}/compartments/{old.compartment_id}/clear-fault", json={}))
        again = ok(kiosk.post(f"{API}/collect", json={"code": new.pin}))
        assert [d["compartment_id"] for d in again["doors"]] == [old.compartment_id]
        assert parcel_state(staff, old.id) == "collected"


def test_no_fault_of_a_board_ever_becomes_a_500(tmp_path: Path) -> None:
    """Every fault the simulator can play, lasting until repaired, during a collection."""
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
        live.client(None, local_address="127.0.0.2") as kiosk,
    ):
        for fault in Fault:
            stored = store(live, courier, tracking=f"F-{fault.value}")
            cid = stored.compartment_id
            live.sim.inject(cid, fault)
            answer = kiosk.post(f"{API}/collect", json={"code": stored.pin})
            assert answer.status_code in (200, 503), (fault, answer.status_code, answer.text)
            if answer.status_code == 503:
                body = problem(answer, 503, "door_did_not_open")
                assert body["next"], body
                assert [d["compartment_id"] for d in body["doors"]] == [cid]
                assert parcel_state(staff, stored.id) == "stored", fault
                assert compartment(staff, cid)["state"] == "fault", fault
            else:
                assert ok(answer)["doors"][0]["compartment_id"] == cid
                assert parcel_state(staff, stored.id) == "collected", fault
            live.sim.repair(cid)
            if compartment(staff, cid)["state"] == "fault":
                ok(staff.post(f"{API}/compartments/{cid}/clear-fault", json={}))
            if answer.status_code == 503:  # once repaired, the same code opens the door
                ok(kiosk.post(f"{API}/collect", json={"code": stored.pin}))
                assert parcel_state(staff, stored.id) == "collected", fault
            live.sim.take(cid)
            live.sim.close(cid)


def test_healthz_reports_a_board_that_is_gone(tmp_path: Path) -> None:
    with live_station(tmp_path, background=True) as live, live.client(None) as anyone:

        def health() -> dict[str, object]:
            answer = anyone.get("/healthz")
            assert answer.status_code == 200, answer.text  # the database is fine
            body: dict[str, object] = answer.json()
            return body

        wait_until(lambda: health()["status"] == "ok")
        live.sim.inject(7, Fault.GONE)  # board 1 stops answering
        wait_until(lambda: health()["buses"] == {"main": "no_answer"})
        assert health()["status"] == "degraded"
        assert health()["database"] == "ok"
        live.sim.repair(7)
        wait_until(lambda: health()["status"] == "ok")
        assert health()["buses"] == {"main": "ok"}
