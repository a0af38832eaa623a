"""``make fleet`` lived in (issue 26), driven as a person drives it: what it prints is read,
lines are typed at its terminal, the printed command lines are run in another shell, and
Ctrl-C ends it. One demo of one station, then again on the same folder:

- the parcel the printed curl line announces, on the station's courier screen in Chromium
  (the printed one-time password): listed, deposited by its tracking number, the page
  reloaded while the door is open, the code shown; the hub holds that one parcel;
- a station stopped (the printed ``locker hub demo stop`` line, in another shell) while the
  carrier announces a parcel to it, started again (``start 1`` typed): the announcement
  reaches it and its answer the hub;
- a station killed right after a deposit: the demo says so, reaps it and offers the restart;
  restarted as offered, the hub has every event it wrote;
- after each restart, the hub's fleet screen (the operator's printed password) shows the
  station online and the parcel announced while it was down;
- a station added with the printed command lines (``station add`` with the settings the
  demo printed the path of; ``start demo-2`` typed), online at once, and the demo carrier
  may announce to it; the fleet screen lists it online, and on a phone (390 px) nothing
  runs off the side;
- Ctrl-C ends the demo and every station it ran;
- the second run uses the same data: the operator's password, the carrier's token, a
  station's first one-time password, the hub's parcels, the added station.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser

from tests.fleet.demo_run import DemoRun, demo_run, gone, poll, remove_demo, shell, station_pid
from tests.fleet.demo_screens import (
    ONE_TIME,
    courier_deposits,
    fleet_screen,
    parcels_listed,
    phone_fits,
    station_online,
)
from tests.screens.conftest import browser, playwright  # noqa: F401 (fixtures)

API = "/api/v1"
NAMES = ("demo-1", "demo-2")
FIRST = r'^  first start: sign in as "admin" with the one-time password (\S+)'


def _printed(
    demo: DemoRun, online: str = "the one station is", more: str = "demo-2"
) -> dict[str, str]:
    """What the demo printed at its start, up to its prompt, that the steps use."""
    found = {}
    hub = demo.expect(r"^hub: http://127\.0\.0\.1:(\d+)/ .* operator: operator / (\S+) ")
    found["hub"], found["password"] = f"http://127.0.0.1:{hub[1]}", hub[2]
    found["token_curl"] = demo.expect(r"^  a token: (curl .*)$")[1]
    station = demo.expect(r"^demo-1: http://127\.0\.0\.1:(\d+)/kiosk  /courier  /staff  /sim$")
    found["demo-1"] = f"http://127.0.0.1:{station[1]}"
    found["courier"] = demo.expect(r"^  demo courier token \(Demo Parcel Co\): (\S+)$")[1]
    found["sim"] = demo.expect(r"^  simulator token .*: (sim_\S+)$")[1]
    demo.expect(r"customer's code .* courier's screen .* mail server")
    found["carrier"] = demo.expect(r"^carrier: Demo Parcel Co   token: (\S+)$")[1]
    found["announce_curl"] = demo.expect(r"^  announce a parcel: (curl .*)$")[1]
    tls = demo.expect(r"^broker: stations over TLS on 127\.0\.0\.1:(\d+), ")
    found["tls_port"] = tls[1]
    added = demo.expect(rf"^one more station: (\(set -a; .*\)), then type `(start {more})` here$")
    found["add"], found["start_more"] = added[1], added[2]
    cli = demo.expect(
        r"^stop or start one station: type `stop demo-1` / `start demo-1` here, "
        r"or run `(.+ hub demo stop demo-1 --dir .+)` elsewhere$"
    )
    found["stop_cli"] = cli[1]
    demo.expect(rf"^{online} online, over TLS .* CA, (\S+), and check its name\)$")
    demo.expect(r"^type `stop NAME`, `start NAME`, `status`")
    first = re.search(FIRST, demo.printed(), re.MULTILINE)  # demo-1's, before or after its tokens
    assert first is not None
    found["admin"] = first[1]
    one_time = re.search(ONE_TIME, demo.printed(), re.MULTILINE)  # the courier screen's
    assert one_time is not None
    found["one_time"] = one_time[1]
    return found


def _get(url: str, token: str) -> Any:
    answer = httpx.get(url, headers={"authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _station(p: dict[str, str], token: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = _get(f"{p['hub']}{API}/stations/{name}", token)
    return found


def _announcement(p: dict[str, str], number: str) -> dict[str, Any]:
    found: dict[str, Any] = _get(f"{p['hub']}{API}/carrier/announcements/{number}", p["carrier"])
    return found


def _announce(p: dict[str, str], number: str, station: str) -> httpx.Response:
    """The demo carrier announces a parcel to ``station`` by name (its printed token)."""
    return httpx.post(
        f"{p['hub']}{API}/carrier/announcements",
        headers={"authorization": f"Bearer {p['carrier']}"},
        json={
            "tracking_number": number,
            "size": "S",
            "recipient_name": "Ole Berg",
            "recipient_postcode": "10110",
            "station": station,
        },
        timeout=30,
    )


def _newest_seq(station_db: Path) -> int:
    """The newest event the station wrote for the hub (its SQLite file, read only)."""
    with sqlite3.connect(f"file:{station_db}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT max(hub_seq) FROM outbox_event").fetchone()[0] or 0)


def _deposit(base: str, p: dict[str, str], parcel_id: int) -> None:
    """The announced parcel deposited by the demo courier, put in and the door closed by
    the simulator's hands (the printed tokens), confirmed."""
    courier = {"authorization": f"Bearer {p['courier']}"}
    hands = {"authorization": f"Bearer {p['sim']}"}
    with httpx.Client(base_url=base, timeout=30) as http:
        made = http.post(f"{API}/deposits", json={"parcel_id": parcel_id}, headers=courier)
        assert made.status_code == 201, made.text
        door = made.json()["door"]["compartment_id"]
        for hand in ("put", "close"):
            assert http.post(f"{API}/sim/doors/{door}/{hand}", headers=hands).status_code == 200
        confirmed = http.post(f"{API}/parcels/{parcel_id}/confirm", headers=courier)
        assert confirmed.status_code == 200, confirmed.text


def test_the_fleet_demo_lived_in(tmp_path: Path, browser: Browser) -> None:  # noqa: F811
    home = tmp_path / "demo"
    try:
        with demo_run(home) as demo:
            demo.expect(rf"^a new demo in {re.escape(str(home))} ")
            p = _printed(demo)
            token = json.loads(shell(p["token_curl"]).stdout)["token"]  # the printed line
            sent = json.loads(shell(p["announce_curl"]).stdout)
            assert sent.get("station", {}).get("name") == "demo-1", sent  # routed by postcode
            _on_the_courier_screen(browser, p, token)
            _stopped_and_started(demo, p, token)
            poll(lambda: _station(p, token, "demo-1")["parcels"].get("announced") == 1)
            fleet = fleet_screen(browser, p["hub"], p["password"])
            station_online(fleet, "demo-1")
            parcels_listed(fleet, "demo-1", "DEMO-2", "announced")  # announced while it was down
            _died(demo, p, token)
            fleet.goto("/fleet/")
            station_online(fleet, "demo-1")
            parcels_listed(fleet, "demo-1", "DEMO-2", "waiting")  # deposited before it died
            parcels_listed(fleet, "demo-1", "DEMO-1", "waiting")
            _added(demo, p, token)
            fleet.goto("/fleet/")
            station_online(fleet, "demo-2")
            phone_fits(browser, p["hub"], p["password"], NAMES)
            fleet.context.close()
            stations = [station_pid(int(_url_of(demo, n).rsplit(":", 1)[1])) for n in NAMES]
            assert demo.interrupt() == 0
            demo.expect(r"^the fleet demo stopped: its engines, hub and stations too$")
            assert all(gone(pid) for pid in stations)
        second = datetime.now(UTC)
        with demo_run(home) as again:
            again.expect(rf"^using the demo's data in {re.escape(str(home))} \(FRESH=1")
            _kept(again, p, second)
            assert again.interrupt() == 0
    finally:
        remove_demo(home)


def _on_the_courier_screen(browser: Browser, p: dict[str, str], token: str) -> None:  # noqa: F811
    """The parcel the printed curl line announced, on demo-1's courier screen: listed,
    deposited by its tracking number, the page lost mid-deposit, the code shown; the hub
    then holds that one parcel, in the locker (not a second one beside the announced)."""
    poll(lambda: _announcement(p, "DEMO-1")["state"] == "announced")
    code_for = "Parcel DEMO-1 for Ida Lund."
    courier_deposits(browser, p["demo-1"], p["one_time"], p["sim"], "DEMO-1", code_for)
    poll(lambda: _announcement(p, "DEMO-1")["state"] == "in_locker")
    poll(lambda: _station(p, token, "demo-1")["parcels"] == {"stored": 1})


def _stopped_and_started(demo: DemoRun, p: dict[str, str], token: str) -> None:
    stopped = shell(p["stop_cli"])  # the printed line, from another shell
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.startswith("demo-1 stopped (exit 0); type `start demo-1`")
    demo.expect(r"^> stop demo-1$")  # the demo's terminal shows what the other shell did
    poll(lambda: not _station(p, token, "demo-1")["online"])
    # While it is stopped, the carrier announces a parcel to it by name.
    while_down = _announce(p, "DEMO-2", "demo-1")
    assert while_down.status_code == 202, while_down.text
    assert _announcement(p, "DEMO-2")["state"] == "sent_to_station"
    demo.type("start 1")
    demo.expect(r"^demo-1 started: http://127\.0\.0\.1:\d+/kiosk .* the hub sees it online")
    # the tokens of this start (new at each): what it says is what works now
    p["courier"] = demo.expect(r"^  demo courier token \(Demo Parcel Co\): (\S+)$")[1]
    p["sim"] = demo.expect(r"^  simulator token .*: (sim_\S+)$")[1]
    # Brought back, it takes the announcement and the hub hears its answer.
    poll(lambda: _announcement(p, "DEMO-2")["state"] == "announced")


def _died(demo: DemoRun, p: dict[str, str], token: str) -> None:
    url = _url_of(demo, "demo-1")
    pid = station_pid(int(url.rsplit(":", 1)[1]))
    _deposit(url, p, _announcement(p, "DEMO-2")["parcel_id"])
    written = _newest_seq(demo.home / "demo-1" / "station.db")
    os.kill(pid, signal.SIGKILL)  # at once: its uplink may not have sent the last events
    demo.expect(r"^station demo-1 stopped \(killed by signal 9\); type `start demo-1` to restart")
    assert gone(pid)  # reaped, not left defunct
    poll(lambda: not _station(p, token, "demo-1")["online"])
    demo.type("status")
    demo.expect(r"^demo-1: stopped \(the hub sees it offline\)$")
    demo.type("start demo-1")
    demo.expect(r"^demo-1 started: .* the hub sees it online and gets what it did meanwhile$")
    # The hub whole again: every event it wrote before it died, and none behind.
    whole = poll(
        lambda: (
            (s := _station(p, token, "demo-1"))["events_applied"] >= written
            and s["events_behind"] == 0
            and s
        )
    )
    assert whole["parcels"] == {"stored": 2}  # DEMO-1 and DEMO-2, each once
    assert _announcement(p, "DEMO-2")["state"] == "in_locker"


def _url_of(demo: DemoRun, name: str) -> str:
    demo.type("status")
    port = demo.expect(rf"^{name}: http://127\.0\.0\.1:(\d+) \(the hub sees it online\)$")[1]
    return f"http://127.0.0.1:{port}"


def _added(demo: DemoRun, p: dict[str, str], token: str) -> None:
    added = shell(p["add"])  # as printed: the hub's settings from hub.env, then station add
    assert added.returncode == 0, added.stderr
    assert "the broker lets demo-2 in now" in added.stderr
    assert f"reaches the broker at mqtts://127.0.0.1:{p['tls_port']}" in added.stderr
    settings = dict(
        line.split("=", 1)
        for line in (demo.home / "demo-2.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert settings["LOCKER_MQTT_PORT"] == p["tls_port"]  # the broker the stations use
    assert settings["LOCKER_MQTT_TLS"] == "true"
    assert settings["LOCKER_MQTT_CA_FILE"] == str(demo.home / "tls" / "demo-ca.pem")
    demo.type(p["start_more"])
    demo.expect(r"^demo-2 started: http://127\.0\.0\.1:\d+/kiosk .* the hub sees it online")
    demo.expect(FIRST)
    demo.expect(r"^  demo courier token \(Demo Parcel Co\): lps_\S+$")
    demo.expect(r"^  Demo Parcel Co may announce parcels to it now$")
    assert _station(p, token, "demo-2")["online"]
    assert _station(p, token, "demo-1")["online"]
    assert _announce(p, "DEMO-3", "demo-2").status_code == 202  # the demo carrier's, too
    poll(lambda: _announcement(p, "DEMO-3")["state"] == "announced")


def _kept(again: DemoRun, p: dict[str, str], second: datetime) -> None:
    kept = _printed(again, online="the two stations are", more="demo-3")
    assert kept["password"] == p["password"]
    assert kept["carrier"] == p["carrier"]
    assert kept["admin"] == p["admin"]  # shown once by the station, kept by the demo
    assert f"{p['admin']} (you choose your own at the first sign-in) (said at its first start" in (
        again.printed()
    )
    token = json.loads(shell(kept["token_curl"]).stdout)["token"]
    assert _station(kept, token, "demo-1")["parcels"] == {"stored": 2}
    for name in NAMES:  # online in this run: not what the first one left in the database
        state = _station(kept, token, name)
        assert state["online"]
        assert datetime.fromisoformat(state["last_seen"]) >= second
    assert _announcement(kept, "DEMO-2")["state"] == "in_locker"
    page = httpx.get(f"{kept['hub']}/", follow_redirects=True, timeout=30)  # the hub's address
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'name="password"' in page.text  # the fleet screen's sign-in, not a 404
