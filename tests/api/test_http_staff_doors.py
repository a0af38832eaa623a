"""Staff door openings through HTTP are limited: past LOCKER_STAFF_OPEN_LIMIT openings in
LOCKER_STAFF_OPEN_WINDOW_S a second staff member must confirm each further one (an admin
needs none), reaching the limit alerts staff (by mail, over real SMTP), and opening every
door at once is one admin action, audited as such, through the real driver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from locker.people import accounts
from locker.types import Role
from tests.api.http_helpers import API, ok, problem, pulsed_since, pulses
from tests.api.live import PASSWORD, LiveStation, live_station, wait_until
from tests.mail_support import smtp_server, text_of

SECOND = "second-staff"
SHOP = "shop@example.org"


def _second_staff(live: LiveStation) -> None:
    accounts.create_account(
        live.runtime.station, name=SECOND, role=Role.STAFF, actor="test", password=PASSWORD
    )


def _open(client: httpx.Client, cid: int, **body: Any) -> httpx.Response:
    response: httpx.Response = client.post(f"{API}/compartments/{cid}/open", json=body)
    return response


def _audit(client: httpx.Client, action: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = ok(client.get(f"{API}/audit", params={"action": action}))
    return entries


def _alerts(client: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(client.get(f"{API}/alerts"))
    return [a for a in found if a["kind"] == "staff_openings"]


def test_a_staff_opening_needs_a_reason(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client("staff") as staff:
        before = pulses(live)
        for body in ({}, {"reason": ""}, {"reason": "   "}):
            problem(_open(staff, 1, **body), 422, "reason_required")
        # not even a second staff member's confirmation stands in for the reason
        problem(
            _open(staff, 1, second_staff={"name": "admin", "password": PASSWORD}),
            422,
            "reason_required",
        )
        assert pulsed_since(live, before) == {}
        assert ok(_open(staff, 1, reason="parcel stuck"))["opened"] is True


def test_past_the_limit_a_second_staff_member_must_confirm(tmp_path: Path) -> None:
    with (
        smtp_server() as server,
        live_station(
            tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            staff_email=SHOP,
            notify_every_s=0.05,
        ) as live,
        live.client("staff") as staff,
        live.client("admin") as admin,
    ):
        _second_staff(live)
        for cid in range(1, 5):  # four of the five: no alert yet
            assert ok(_open(staff, cid, reason=f"check {cid}"))["opened"] is True
        assert _alerts(staff) == []
        live.clock.advance(minutes=9)  # all still inside the ten minutes
        assert ok(_open(staff, 5, reason="check 5"))["opened"] is True
        # the fifth reaches the limit: staff are alerted, on the screen's list and by mail
        [alert] = _alerts(staff)
        assert alert["compartment_id"] is None
        assert "5 doors opened by staff" in alert["detail"]

        def mails() -> list[Any]:  # (the doors left open meanwhile have mails of their own)
            return [m for m in server.mailbox.to(SHOP) if "staff openings" in m["Subject"]]

        wait_until(mails)
        [mail] = mails()
        assert "further openings need a second staff member" in text_of(mail)

        # the sixth: refused without a confirmation, no lock pulsed, the refusal audited
        before = pulses(live)
        body = problem(_open(staff, 6, reason="check 6"), 403, "second_staff_required")
        assert "second staff member" in body["detail"]
        refused = _audit(staff, "door.open_unconfirmed")
        assert [(e["compartment_id"], e["actor"]) for e in refused] == [(6, "staff:staff")]
        # the "second" is the same person, a wrong password, a courier: refused
        for second, code in (
            ({"name": "staff", "password": PASSWORD}, "second_staff_same_person"),
            ({"name": SECOND, "password": "not the password"}, "second_staff_invalid"),
            ({"name": "nobody", "password": PASSWORD}, "second_staff_invalid"),
            ({"name": "courier", "password": PASSWORD}, "second_staff_invalid"),
        ):
            problem(_open(staff, 6, reason="check 6", second_staff=second), 403, code)
        assert pulsed_since(live, before) == {}

        # a second, different staff member confirms with their own password: it opens
        confirmed = _open(
            staff, 6, reason="check 6", second_staff={"name": SECOND, "password": PASSWORD}
        )
        assert ok(confirmed)["opened"] is True
        assert pulsed_since(live, before) == {6: 1}
        assert live.sim.state(6).latched is False
        [opened] = [e for e in _audit(staff, "door.opened") if e["compartment_id"] == 6]
        assert opened["actor"] == "staff:staff"
        assert opened["detail"] == "staff: check 6 (confirmed by staff:second-staff)"

        # an admin is not limited
        assert ok(_open(admin, 7, reason="admin check"))["opened"] is True
        assert pulsed_since(live, before) == {6: 1, 7: 1}
        assert len(_alerts(staff)) == 1  # still the one alert, not one per opening

        # once the window has passed the earlier openings, staff open alone again
        live.clock.advance(minutes=10)
        assert ok(_open(staff, 8, reason="later"))["opened"] is True
        assert _alerts(staff) == []  # the burst is over: its alert is cleared


def test_the_limit_is_a_setting(tmp_path: Path) -> None:
    with (
        live_station(
            tmp_path, background=False, staff_open_limit=2, staff_open_window_s=60
        ) as live,
        live.client("staff") as staff,
    ):
        ok(_open(staff, 1, reason="a"))
        ok(_open(staff, 2, reason="b"))
        problem(_open(staff, 3, reason="c"), 403, "second_staff_required")
        live.clock.advance(seconds=61)
        assert ok(_open(staff, 3, reason="c"))["opened"] is True


def test_open_all_is_one_admin_action_through_the_driver(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("staff") as staff,
        live.client("admin") as admin,
    ):
        before = pulses(live)
        problem(admin.post(f"{API}/compartments/open-all", json={}), 422, "reason_required")
        problem(
            staff.post(f"{API}/compartments/open-all", json={"reason": "cleaning"}),
            403,
            "forbidden",
        )
        assert pulsed_since(live, before) == {}
        assert _audit(admin, "open_all") == []

        ok(staff.post(f"{API}/compartments/3/out-of-service", json={"reason": "hinge loose"}))
        live.sim.jam(4)  # its latch will not release
        done = ok(admin.post(f"{API}/compartments/open-all", json={"reason": "cleaning"}))
        results = {d["compartment_id"]: (d["result"], d["detail"]) for d in done["doors"]}
        assert results[3] == ("skipped", "out_of_service")
        assert results[4][0] == "not_opened"
        opened = [cid for cid, (result, _) in results.items() if result == "opened"]
        assert opened == [1, 2, *range(5, 13)]
        assert (done["opened"], done["not_opened"], done["skipped"]) == (10, 1, 1)
        # every door but the one out of service was pulsed, through the driver: the opened
        # ones once (the jammed one again, as the driver does for a hook seen engaged)
        pulsed = pulsed_since(live, before)
        assert set(pulsed) == {1, 2, *range(4, 13)}
        assert {cid: pulsed[cid] for cid in opened} == {cid: 1 for cid in opened}
        for cid in opened:
            assert live.sim.state(cid).latched is False
        assert live.sim.state(3).latched is True

        [started] = [e for e in _audit(admin, "open_all") if e["action"] == "open_all"]
        assert started["actor"] == "admin:admin"
        assert started["detail"] == "cleaning (12 compartments)"  # one action ...
        [summary] = _audit(admin, "open_all.done")
        assert "opened 10" in summary["detail"]
        assert "3: out_of_service" in summary["detail"]
        doors = [e for e in _audit(admin, "door.") if e["detail"].startswith("open_all")]
        assert {e["compartment_id"] for e in doors if e["action"] == "door.opened"} == set(opened)
        assert all(e["detail"] == "open_all: cleaning" for e in doors)  # ... and its doors
        faulty = ok(staff.get(f"{API}/compartments/4"))["compartment"]
        assert faulty["condition"] == "fault"
        # the admin's mass opening is not the staff's one-by-one count: staff open alone
        assert ok(_open(staff, 5, reason="after cleaning"))["opened"] is True
