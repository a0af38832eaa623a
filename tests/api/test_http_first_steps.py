"""What a new user and an outside probe stumbled on (issue 19), over real HTTP: refused
collections are audited (aggregated per client and minute), text with control or
invisible format characters is refused naming its field, and a PIN is taken with or
without the spaces it is printed with."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from locker.codes import group_pin
from tests.api.http_helpers import API, kiosk_collect, ok, parcel, problem, store
from tests.api.live import live_station
from tests.api.test_screen_roles import screen_browser


def _refusals(staff: httpx.Client) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = ok(
        staff.get(f"{API}/audit", params={"action": "collect.refused", "limit": 100})
    )
    return rows


def _count(row: dict[str, object]) -> int:
    return int(str(row["detail"]).split(" × ")[0])


def test_codes_refused_with_429_leave_one_counted_audit_row_per_client_and_minute(
    tmp_path: Path,
) -> None:
    with live_station(tmp_path, background=False) as live, live.client("staff") as staff:
        for _ in range(3):  # the free wrong tries: each its own code.rejected row
            problem(kiosk_collect(live, "1111111111", "127.0.0.2"), 404, "code_invalid")
        for _ in range(6):  # a flood of refused ones
            problem(kiosk_collect(live, "1111111111", "127.0.0.2"), 429, "too_many_attempts")
        problem(kiosk_collect(live, "1111111111", "127.0.0.3"), 404, "code_invalid")
        rows = _refusals(staff)
        assert len(rows) == 1
        assert rows[0]["actor"] == "customer@127.0.0.2"
        assert rows[0]["detail"] == "6 × too_many_attempts"
        live.clock.advance(seconds=61)  # a new minute (and the 30 s wait is over)
        problem(kiosk_collect(live, "1111111111", "127.0.0.2"), 404, "code_invalid")
        problem(kiosk_collect(live, "1111111111", "127.0.0.2"), 429, "too_many_attempts")
        rows = _refusals(staff)
        assert [r["detail"] for r in rows] == ["1 × too_many_attempts", "6 × too_many_attempts"]
        # and the maintenance screen's audit log shows them
        browser = screen_browser(live, "staff")
        try:
            page = browser.get("/staff/audit", params={"action": "collect.refused"})
            assert page.status_code == 200
            assert "6 × too_many_attempts" in page.text
            assert "customer@127.0.0.2" in page.text
        finally:
            browser.close()


def test_every_parallel_try_of_one_pin_leaves_a_trace(tmp_path: Path) -> None:
    tries = 12
    with (
        live_station(tmp_path, background=False, attempts_free=50) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        stored = store(live, courier, tracking="RACE-1")
        start = threading.Barrier(tries)
        answers: list[int] = []

        def one(i: int) -> None:
            start.wait()
            answers.append(kiosk_collect(live, stored.pin, f"127.0.1.{i + 1}").status_code)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(tries)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers.count(200) == 1
        assert set(answers) <= {200, 404, 409}
        busy = [r for r in _refusals(staff) if str(r["detail"]).endswith("door_busy")]
        rejected = ok(staff.get(f"{API}/audit", params={"action": "code.rejected"}))
        assert sum(_count(r) for r in busy) == answers.count(409)
        assert len(rejected) == answers.count(404)
        assert sum(_count(r) for r in busy) + len(rejected) == tries - 1  # no try untraced


BAD = {
    "NUL": "JJD\x00001",
    "a right-to-left override": "JJD\u202e100",
    "an escape": "JJD\x1b[2J",
    "a line break": "JJD\n001",
    "a zero-width space": "JJD\u200b001",
}


def test_text_with_control_or_invisible_characters_is_refused_naming_the_field(
    tmp_path: Path,
) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        for what, text in BAD.items():
            for field in ("tracking_number", "recipient_name"):
                body = parcel(**{"tracking" if field == "tracking_number" else "name": text})
                said = problem(
                    courier.post(f"{API}/deposits", json={"parcel": body}), 422, "invalid_request"
                )
                wheres = [e["where"] for e in said["errors"]]
                assert any(w.endswith(field) for w in wheres), (what, said)
        said = problem(
            staff.post(f"{API}/compartments/1/out-of-service", json={"reason": "hinge\u2066"}),
            422,
            "invalid_request",
        )
        assert said["errors"][0]["where"] == "body.reason"
        assert live.sim.pulses(1) + live.sim.pulses(2) == 0  # nothing was opened
        # a search for NUL is refused, not an answer with every parcel
        store(live, courier, tracking="JJD-REAL")
        said = problem(staff.get(f"{API}/parcels", params={"q": "\x00"}), 422, "invalid_request")
        assert said["errors"][0]["where"] == "query.q"
        found = ok(staff.get(f"{API}/parcels", params={"q": "JJD-REAL"}))
        assert [p["tracking_number"] for p in found] == ["JJD-REAL"]
        # the maintenance screen's search says so in its own table's place
        browser = screen_browser(live, "staff")
        try:
            page = browser.get(
                "/staff/parcels",
                params={"q": "\x00"},
                headers={"HX-Request": "true", "HX-Target": "parcels-table"},
            )
            assert page.status_code == 422
            assert 'data-problem="invalid_request"' in page.text
            assert "q: contains a control or invisible format character (U+0000)" in page.text
        finally:
            browser.close()
        # letters of any script, and the joiners some need, are fine
        ok(
            courier.post(f"{API}/parcels", json=parcel("ÄÖ-Ω-1", name="Zoë 李 \u0915\u094d\u200d")),
            201,
        )


def test_a_pin_is_taken_with_or_without_its_spaces(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client("courier") as courier:
        stored = store(live, courier, tracking="SPACES-1")
        grouped = group_pin(stored.pin)
        assert grouped.count(" ") == 2
        assert grouped.replace(" ", "") == stored.pin
        body = ok(kiosk_collect(live, grouped, "127.0.0.2"))
        assert body["all_opened"] is True
        assert body["doors"][0]["compartment_id"] == stored.compartment_id
