"""The simulator's hands (/api/v1/sim and the /sim screen) need a staff session or token,
or the simulator's own token: a simulated demo reachable on a network must not let anyone
put parcels in or take them out."""

from __future__ import annotations

from pathlib import Path

from tests.api.http_helpers import API, ok, problem
from tests.api.live import PASSWORD, live_station

HTMX = {"HX-Request": "true"}


def test_the_sim_api_needs_staff_or_the_simulator_s_token(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False, sim_token="the demo's token") as live,
        live.client(None) as anyone,
        live.client("courier") as courier,
        live.client("staff") as staff,
        live.client("admin") as admin,
        live.client("sim") as hands,
    ):
        assert live.tokens["sim"] == "the demo's token"  # LOCKER_SIM_TOKEN is used
        for client, status, code in (
            (anyone, 401, "not_authenticated"),
            (courier, 403, "forbidden"),
        ):
            problem(client.get(f"{API}/sim/doors"), status, code)
            problem(client.post(f"{API}/sim/doors/1/put"), status, code)
            problem(
                client.post(f"{API}/sim/doors/1/fault", json={"fault": "stuck_latch"}),
                status,
                code,
            )
            problem(client.delete(f"{API}/sim/doors/1/fault"), status, code)
        body = problem(anyone.post(f"{API}/sim/doors/1/take"), 401, "not_authenticated")
        assert "simulator's token" in body["detail"]
        wrong = {"Authorization": "Bearer not the demo's token"}
        problem(anyone.post(f"{API}/sim/doors/1/put", headers=wrong), 401, "not_authenticated")
        assert live.sim.state(1).item is False  # none of that put anything in
        assert live.sim.faults(1) == []

        # the simulator's token, a staff token, an admin token: the hands work
        assert len(ok(hands.get(f"{API}/sim/doors"))) == 12
        assert ok(hands.post(f"{API}/sim/doors/1/put"))["item"] is True
        assert ok(staff.post(f"{API}/sim/doors/1/take"))["item"] is False
        assert ok(admin.post(f"{API}/sim/doors/2/put"))["item"] is True

        # and a staff browser session, with its CSRF token for a change
        signed_in = anyone.post(f"{API}/auth/session", json={"name": "staff", "password": PASSWORD})
        csrf = ok(signed_in)["csrf_token"]
        assert len(ok(anyone.get(f"{API}/sim/doors"))) == 12
        problem(anyone.post(f"{API}/sim/doors/3/put"), 403, "csrf_failed")
        put = anyone.post(f"{API}/sim/doors/3/put", headers={"X-CSRF-Token": csrf})
        assert ok(put)["item"] is True


def test_a_fresh_simulator_token_at_each_start_when_none_is_set(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with live_station(tmp_path / "a", background=False) as first:
        one = first.tokens["sim"]
    with live_station(tmp_path / "b", background=False) as second:
        two = second.tokens["sim"]
    assert one.startswith("sim_")
    assert len(one) > 30  # 24 random bytes
    assert one != two


def test_the_sim_screen_is_for_staff_and_says_so(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client(None) as browser:
        page = browser.get("/sim")
        assert page.status_code == 200
        assert "Only staff may use the simulated doors" in page.text
        assert 'id="sim-front"' not in page.text  # no doors drawn for anyone else
        assert 'href="/staff"' in page.text
        answer = browser.post("/sim/compartments/1/put", headers=HTMX)
        assert answer.status_code == 401
        assert answer.headers["HX-Redirect"] == "/sim"
        assert live.sim.state(1).item is False

        signed_in = browser.post("/staff/sign-in", data={"name": "staff", "password": PASSWORD})
        assert signed_in.status_code == 303
        browser.headers["X-CSRF-Token"] = browser.cookies["locker_csrf"]
        page = browser.get("/sim")
        assert 'id="sim-front"' in page.text
        assert "Only staff may use the simulated doors" in page.text  # the rule stays said
        done = browser.post("/sim/compartments/1/put", headers=HTMX)
        assert done.status_code == 200
        assert live.sim.state(1).item is True
