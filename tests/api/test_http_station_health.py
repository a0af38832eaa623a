"""The station's health through HTTP: a door left open raises an alert (and clears it), the
bus counters say how a board did not answer, /healthz and /metrics after some activity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.faults import Fault
from tests.api.http_helpers import (
    API,
    deposit,
    kiosk_collect,
    metric,
    metric_samples,
    ok,
    parcel_state,
    problem,
    store,
)
from tests.api.live import live_station, wait_until


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
            problem(kiosk_collect(live, "5555555555"), 404, "code_invalid")
        ok(kiosk_collect(live, stored.pin))
        for _ in range(3):
            problem(kiosk_collect(live, "5555555555", "127.0.0.3"), 404, "code_invalid")
        problem(kiosk_collect(live, "5555555555", "127.0.0.3"), 429, "too_many_attempts")
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
