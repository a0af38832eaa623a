"""Staff through HTTP: compartments, doors, service state, deadlines, codes, the audit log,
alerts, bus health, /healthz and /metrics."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from locker.services import staff as staff_service
from sim.faults import Fault
from tests.api.http_helpers import (
    API,
    COMPARTMENTS,
    SIZES,
    compartment,
    deposit,
    metric,
    metric_samples,
    ok,
    parcel,
    parcel_state,
    problem,
    pulsed_since,
    pulses,
    store,
)
from tests.api.live import LiveStation, live_station, wait_until


def _collect(live: LiveStation, code: str, address: str = "127.0.0.2") -> httpx.Response:
    with live.client(None, local_address=address) as kiosk:
        response: httpx.Response = kiosk.post(f"{API}/collect", json={"code": code})
    return response


def _ids(items: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in items]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_compartments_list_with_state_and_size_filters(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        every = ok(staff.get(f"{API}/compartments"))
        assert _ids(every) == list(COMPARTMENTS)
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
        assert _ids(occupied) == [stored.compartment_id]
        assert occupied[0]["parcel_id"] == stored.id
        reserved = listed(state="reserved")
        assert _ids(reserved) == [reserved_cid]
        assert reserved[0]["parcel_id"] == reserved_pid
        out = listed(state="out_of_service")
        assert _ids(out) == [3]
        assert out[0]["note"] == "hinge loose"
        assert out[0]["condition"] == "out_of_service"
        assert _ids(listed(state="fault")) == [4]
        assert _ids(listed(state="free")) == list(range(5, 13))
        assert _ids(listed(size="M")) == [3, 4, 9, 10]
        assert _ids(listed(state="free", size="S")) == [7, 8]
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
        history_ids = _ids(detail["history"])
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
        ok(_collect(live, stored.pin))
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


def test_extend_deadline_by_days_or_until(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        first = store(live, courier, tracking="EXT-1", email="a@example.org")
        second = store(live, courier, tracking="EXT-2", email="b@example.org")
        third = store(live, courier, tracking="EXT-3", email="c@example.org")

        # a stored parcel: days are added to its deadline
        deadline = _at(ok(staff.get(f"{API}/parcels/{third.id}"))["deadline"])
        longer = ok(staff.post(f"{API}/parcels/{third.id}/extend", json={"days": 1}))
        assert longer["state"] == "stored"
        assert _at(longer["deadline"]) == deadline + timedelta(days=1)

        live.clock.advance(days=7, hours=1)
        report = staff_service.expire(live.runtime.station)
        assert set(report.expired_parcels) == {first.id, second.id}
        problem(_collect(live, first.pin), 404, "code_invalid")

        now = live.clock()
        by_days = ok(staff.post(f"{API}/parcels/{first.id}/extend", json={"days": 2}))
        assert by_days["state"] == "stored"
        assert _at(by_days["deadline"]) == now + timedelta(days=2)
        before = pulses(live)
        ok(_collect(live, first.pin, "127.0.0.3"))
        assert pulsed_since(live, before) == {first.compartment_id: 1}

        until = now + timedelta(days=3)
        by_until = ok(
            staff.post(f"{API}/parcels/{second.id}/extend", json={"until": until.isoformat()})
        )
        assert by_until["state"] == "stored"
        assert _at(by_until["deadline"]) == until
        ok(_collect(live, second.qr_token, "127.0.0.3"))
        assert pulsed_since(live, before) == {first.compartment_id: 1, second.compartment_id: 1}
        # the third one's extended deadline held: still collectable after 7 days and an hour
        ok(_collect(live, third.pin, "127.0.0.3"))

        extend = f"{API}/parcels/{first.id}/extend"
        problem(staff.post(extend, json={}), 422, "invalid_request")
        problem(
            staff.post(extend, json={"days": 1, "until": until.isoformat()}), 422, "invalid_request"
        )
        problem(staff.post(extend, json={"days": 0}), 422, "invalid_request")
        problem(staff.post(extend, json={"days": 91}), 422, "invalid_request")
        problem(staff.post(extend, json={"until": "2030-01-01T00:00:00"}), 422, "invalid_request")
        problem(staff.post(extend, json={"days": 1}), 409, "invalid_transition")  # collected
        problem(staff.post(f"{API}/parcels/9999/extend", json={"days": 1}), 404, "parcel_not_found")
        past = (now - timedelta(days=1)).isoformat()
        fresh = store(live, courier, tracking="EXT-4")
        problem(
            staff.post(f"{API}/parcels/{fresh.id}/extend", json={"until": past}),
            409,
            "invalid_transition",
        )


def test_reissued_code_replaces_the_old_one(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        stored = store(live, courier, tracking="LOST", email="lost@example.org")
        code = ok(staff.post(f"{API}/parcels/{stored.id}/code"))
        assert code["pin"] != stored.pin
        assert code["qr_token"] != stored.qr_token
        assert code["opens_parcels"] == [stored.id]
        assert code["expires_at"] == ok(staff.get(f"{API}/parcels/{stored.id}"))["deadline"]
        audit = ok(staff.get(f"{API}/audit", params={"parcel": stored.id, "action": "code."}))
        assert [e["action"] for e in audit] == ["code.reissued"]
        assert audit[0]["actor"] == "staff:staff"

        before = pulses(live)
        problem(_collect(live, stored.pin), 404, "code_invalid")
        problem(_collect(live, stored.qr_token), 404, "code_invalid")
        assert pulsed_since(live, before) == {}
        body = ok(_collect(live, code["pin"]))
        assert [d["compartment_id"] for d in body["doors"]] == [stored.compartment_id]
        assert pulsed_since(live, before) == {stored.compartment_id: 1}
        assert parcel_state(staff, stored.id) == "collected"

        problem(staff.post(f"{API}/parcels/{stored.id}/code"), 409, "invalid_transition")
        problem(staff.post(f"{API}/parcels/9999/code"), 404, "parcel_not_found")
        announced = ok(courier.post(f"{API}/parcels", json=parcel("NO-CODE-YET")), 201)
        problem(staff.post(f"{API}/parcels/{announced['id']}/code"), 409, "invalid_transition")


def test_staff_parcel_list_filters(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("rival") as rival,
        live.client("staff") as staff,
    ):
        stored = store(live, courier, tracking="LIST-1", name="Alan Turing")
        announced = ok(courier.post(f"{API}/parcels", json=parcel("LIST-2")), 201)
        theirs = ok(rival.post(f"{API}/parcels", json=parcel("LIST-3")), 201)

        def listed(**params: Any) -> list[int]:
            return _ids(ok(staff.get(f"{API}/parcels", params=params)))

        assert listed() == [theirs["id"], announced["id"], stored.id]  # newest first
        assert listed(state="stored") == [stored.id]
        assert listed(state=["stored", "announced"]) == [theirs["id"], announced["id"], stored.id]
        assert listed(carrier="Other Express") == [theirs["id"]]
        assert listed(compartment=stored.compartment_id) == [stored.id]
        assert listed(q="LIST-2") == [announced["id"]]
        assert listed(q="Turing") == [stored.id]
        assert listed(limit=1) == [theirs["id"]]
        assert listed(limit=1, offset=1) == [announced["id"]]
        assert listed(overdue="true") == []
        live.clock.advance(days=8)
        assert listed(overdue="true") == [stored.id]
        problem(staff.get(f"{API}/parcels", params={"state": "lost"}), 422, "invalid_request")
        problem(staff.get(f"{API}/parcels", params={"limit": 0}), 422, "invalid_request")


def test_audit_log_filters(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        first = store(live, courier, tracking="AUD-1")
        second = store(live, courier, tracking="AUD-2")
        ok(staff.post(f"{API}/compartments/12/open", json={"reason": "audit test"}))
        problem(_collect(live, "9999999999"), 404, "code_invalid")

        def entries(**params: Any) -> list[dict[str, Any]]:
            body: list[dict[str, Any]] = ok(staff.get(f"{API}/audit", params=params))
            return body

        everything = entries()
        assert _ids(everything) == sorted(_ids(everything), reverse=True)

        doors = entries(action="door.")
        assert doors
        assert all(e["action"].startswith("door.") for e in doors)
        assert {e["compartment_id"] for e in doors if e["action"] == "door.opened"} == {
            first.compartment_id,
            second.compartment_id,
            12,
        }

        mine = entries(parcel=first.id)
        assert mine
        assert all(e["parcel_id"] == first.id for e in mine)
        assert {"parcel.announced", "parcel.reserved", "parcel.stored"} <= {
            e["action"] for e in mine
        }

        opened = entries(compartment=12, action="door.")
        assert [e["action"] for e in opened] == ["door.opened"]
        assert [e["action"] for e in entries(compartment=12)] == [
            "door.opened",
            "compartment.added",
        ]
        assert opened[0]["actor"] == "staff:staff"
        assert "audit test" in opened[0]["detail"]

        rejected = entries(action="code.rejected")
        assert [e["actor"] for e in rejected] == ["customer@127.0.0.2"]
        assert all(e["actor"] == "staff:staff" for e in entries(actor="staff:staff"))
        assert entries(actor="staff:staff")

        assert len(entries(limit=2)) == 2
        newest = everything[0]["id"]
        older = entries(before=newest)
        assert older
        assert all(e["id"] < newest for e in older)
        # (the layout's compartments were added on the wall clock, before the test's clock)
        now = live.clock()
        later, earlier = (now + timedelta(minutes=1)).isoformat(), now.isoformat()
        assert entries(action="door.", since=later) == []
        assert entries(action="door.", until=later) == doors
        live.clock.advance(hours=1)
        ok(staff.post(f"{API}/compartments/11/open", json={"reason": "later"}))
        assert [e["compartment_id"] for e in entries(action="door.", since=later)] == [11]
        assert [e["compartment_id"] for e in entries(action="door.", until=later)] == [
            e["compartment_id"] for e in doors
        ]
        # since is inclusive, until exclusive
        assert entries(action="door.", since=earlier, until=later) == doors
        assert entries(action="door.", until=earlier) == []
        combined = entries(action="parcel.", compartment=second.compartment_id)
        assert combined
        assert all(
            e["action"].startswith("parcel.") and e["compartment_id"] == second.compartment_id
            for e in combined
        )
        problem(staff.get(f"{API}/audit", params={"since": "2026-01-01"}), 422, "invalid_request")
        problem(staff.get(f"{API}/audit", params={"limit": 100000}), 422, "invalid_request")


def test_door_left_open_alert_is_raised_and_cleared(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=True, door_left_open_s=60) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        pid, cid = deposit(courier, tracking="LEFT-OPEN")

        def left_open() -> list[dict[str, Any]]:
            alerts: list[dict[str, Any]] = ok(staff.get(f"{API}/alerts"))
            return [a for a in alerts if a["kind"] == "door_left_open"]

        assert left_open() == []  # the station's clock has not moved: no alert yet

        def advanced_and_alerted() -> bool:
            live.clock.advance(seconds=61)
            return bool(left_open())

        wait_until(advanced_and_alerted)
        alerts = left_open()
        assert len(alerts) == 1
        assert alerts[0]["compartment_id"] == cid
        detail = ok(staff.get(f"{API}/compartments/{cid}"))
        assert [a["kind"] for a in detail["alerts"]] == ["door_left_open"]
        assert ok(live.client(None).get("/healthz"))["open_alerts"] == 1

        live.sim.put(cid)
        live.sim.close(cid)
        wait_until(lambda: left_open() == [])
        wait_until(lambda: parcel_state(courier, pid) == "stored")
        assert ok(staff.get(f"{API}/alerts")) == []


def test_bus_health_counters(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):

        def counters() -> dict[str, int]:
            buses = ok(staff.get(f"{API}/health/buses"))
            assert [b["bus"] for b in buses] == ["main"]
            found: dict[str, int] = buses[0]["counters"]
            return found

        start = counters()
        assert start["timeouts"] == 0
        deposit(courier, tracking="BUS")
        after = counters()
        assert after["commands"] == start["commands"] + 1  # one unlock frame
        assert after["requests"] > start["requests"]  # the read-back
        assert after["replies"] > start["replies"]
        assert after["timeouts"] == 0
        assert after["checksum_errors"] == 0

        # one answer lost on the line: a timeout, one retry, and the door still opens
        live.sim.inject(12, Fault.NO_ANSWER, count=1)
        door = ok(staff.post(f"{API}/compartments/12/open", json={"reason": "test"}))
        assert door["opened"] is True
        lossy = counters()
        assert lossy["timeouts"] == 1
        assert lossy["retries"] == 1
        assert lossy["commands"] == after["commands"] + 1

        # a corrupted answer is counted as a checksum error
        live.sim.inject(11, Fault.CORRUPT_BYTE, count=1)
        ok(staff.post(f"{API}/compartments/11/open", json={"reason": "test"}))
        assert counters()["checksum_errors"] == 1


@pytest.mark.parametrize(
    ("fault", "kind", "text"),
    [
        (Fault.CORRUPT_BYTE, "bad_checksum", "bad checksum"),
        (Fault.TRUNCATED, "torn_frame", "torn frame"),
        (Fault.NO_ANSWER, "silence", "silence"),
    ],
    ids=["bad checksum", "torn frame", "silence"],
)
def test_bus_health_says_how_a_board_did_not_answer(
    tmp_path: Path, fault: Fault, kind: str, text: str
) -> None:
    with live_station(tmp_path, background=False) as live, live.client("staff") as staff:
        boards = ok(staff.get(f"{API}/health/buses"))[0]["boards"]
        assert [(b["address"], b["last_failure"]) for b in boards] == [(0, None), (1, None)]

        live.sim.inject(11, fault)  # board 1 answers badly (or not at all) from now on
        door = staff.post(f"{API}/compartments/11/open", json={"reason": "commissioning"})
        assert door.status_code != 500
        assert live.sim.pulses(11) == 1  # the unlock was not repeated blindly
        bus = ok(staff.get(f"{API}/health/buses"))[0]
        board0, board1 = bus["boards"]
        assert board0["last_failure"] is None
        assert board1["last_failure"] == kind
        assert board1["last_failure_detail"] == f"{text} (3 of 3 tries)"
        assert board1["answered_since"] is False
        assert board1["failed_reads"][kind] >= 1
        assert bus["counters"][f"attempts_{'silent' if kind == 'silence' else kind}"] >= 3

        live.sim.repair(11)
        ok(staff.post(f"{API}/compartments/12/open", json={"reason": "commissioning"}))
        board1 = ok(staff.get(f"{API}/health/buses"))[0]["boards"][1]
        assert board1["last_failure"] == kind
        assert board1["answered_since"] is True


def test_healthz_and_metrics_after_some_activity(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
        live.client(None) as anyone,
    ):
        health = anyone.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {
            "status": "ok",
            "database": "ok",
            "buses": {"main": "ok"},
            "open_alerts": 0,
            "backup": {"state": "never", "last_good_at": None, "age_s": None},  # no jobs ran
        }
        samples = metric_samples(anyone)
        assert metric(samples, "locker_doors_opened_total", purpose="collect") in (None, 0.0)
        assert metric(samples, "locker_code_to_unlock_seconds_count") == 0.0

        stored = store(live, courier, tracking="METRICS")
        for _ in range(2):
            problem(_collect(live, "5555555555"), 404, "code_invalid")
        ok(_collect(live, stored.pin))
        for _ in range(3):
            problem(_collect(live, "5555555555", "127.0.0.3"), 404, "code_invalid")
        problem(_collect(live, "5555555555", "127.0.0.3"), 429, "too_many_attempts")
        live.sim.inject(12, Fault.NO_ANSWER, count=1)
        ok(staff.post(f"{API}/compartments/12/open", json={"reason": "metrics"}))
        live.sim.jam(11)
        problem(
            staff.post(f"{API}/compartments/11/open", json={"reason": "metrics"}),
            503,
            "door_did_not_open",
        )

        samples = metric_samples(anyone)
        assert metric(samples, "locker_doors_opened_total", purpose="deposit") == 1.0
        assert metric(samples, "locker_doors_opened_total", purpose="collect") == 1.0
        assert metric(samples, "locker_doors_opened_total", purpose="staff") == 1.0
        assert (
            metric(samples, "locker_doors_not_opened_total", purpose="staff", outcome="refused")
            == 1.0
        )
        assert metric(samples, "locker_code_attempts_rejected_total", reason="code_invalid") == 5.0
        assert (
            metric(samples, "locker_code_attempts_rejected_total", reason="too_many_attempts")
            == 1.0
        )
        assert metric(samples, "locker_code_to_unlock_seconds_count") == 1.0
        assert (metric(samples, "locker_code_to_unlock_seconds_sum") or 0.0) > 0.0
        bus = ok(staff.get(f"{API}/health/buses"))[0]["counters"]
        assert bus["timeouts"] == 1
        assert metric(samples, "locker_bus_errors_total", bus="main", kind="timeouts") == 1.0
        assert metric(samples, "locker_bus_errors_total", bus="main", kind="retries") == float(
            bus["retries"]
        )
        assert metric(samples, "locker_bus_frames_total", bus="main", kind="commands") == float(
            bus["commands"]
        )
        assert metric(samples, "locker_parcels", state="collected") == 1.0
        assert metric(samples, "locker_compartments", state="fault") == 1.0
        assert metric(samples, "locker_alerts", state="open") == 1.0

        health = ok(anyone.get("/healthz"))
        assert health["status"] == "ok"
        assert health["open_alerts"] == 1  # the jammed door
