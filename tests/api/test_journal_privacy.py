"""A station's journal holds ids, never a person: a whole journey over HTTP against the
simulator (a parcel for a named recipient with an e-mail and a phone, deposited, stored,
collected with its PIN; a wrong PIN; a staff sign-in and openings, one of a jammed door;
a directory search; the recipient's link), and nothing of the person, the codes, the
tokens or the password is in any record the station's journal handler sent, nor in
uvicorn's access lines (standard output, which systemd also puts in the journal). The
records about doors and parcels do carry BUS=, COMPARTMENT= and PARCEL=.

The journal is a real datagram socket bound in ``tmp_path``; the handler is the one
``locker serve`` installs under systemd (``JOURNAL_STREAM`` set).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.access_log import loggable_path
from api.background import jobs
from locker.notify.messages import extend_token
from locker.runtime import journal
from tests.api.http_helpers import API, deposit, kiosk_collect, ok, parcel_state, problem
from tests.api.journal_listener import Listener, parse_entry
from tests.api.live import PASSWORD, live_station

NAME = "Philippa Quennell-Smythe"
EMAIL = "philippa.quennell@example.org"
PHONE = "+44 7700 900123"


@pytest.fixture
def heard(tmp_path: Path) -> Iterator[Listener]:
    """The journal's socket, and the station's journal handler on the root logger."""
    socket_path = tmp_path / "journal"
    listener = Listener(socket_path)
    env = {"JOURNAL_STREAM": "8:4242", "LOCKER_JOURNAL_SOCKET": str(socket_path)}
    handler = journal.install(env)
    assert handler is not None
    # the test's own HTTP client (httpx) logs its requests, in this process: not the station's
    handler.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))
    root_level = logging.getLogger().level
    try:
        yield listener
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(root_level)
        handler.close()
        listener.close()


def test_a_journey_leaves_ids_in_the_journal_and_nothing_of_the_person(
    tmp_path: Path, heard: Listener, capfd: pytest.CaptureFixture[str]
) -> None:
    secrets: list[str] = [NAME, "Quennell", EMAIL, PHONE, "7700900123", PASSWORD]
    with (
        live_station(tmp_path, background=False, server={"log_level": "info"}) as live,
        live.client("courier") as courier,
        live.client(None) as anyone,
    ):
        secrets += [token for token in live.tokens.values()]
        watch_doors = dict((job.__name__, job) for _, job in jobs(live.ctx))["watch_doors"]
        # a courier looks the recipient up, deposits; the door watcher stores the parcel
        assert courier.get(f"{API}/directory/search", params={"q": NAME}).status_code == 200
        pid, cid = deposit(courier, tracking="JOURNAL-1", name=NAME, email=EMAIL, phone=PHONE)
        live.sim.put(cid)
        live.sim.close(cid)
        watch_doors()
        code = ok(courier.post(f"{API}/parcels/{pid}/confirm"))["code"]
        secrets += [code["pin"], code["qr_token"]]
        link = extend_token(live.runtime.station.hasher, pid)
        secrets.append(link.partition(".")[2])  # the link's mark (its id is no secret)
        assert anyone.get(f"/extend/{link}").status_code == 200
        # a wrong PIN, then the right one; the recipient leaves the door open
        wrong = "9" * len(code["pin"]) if code["pin"] != "9" * len(code["pin"]) else "1" * 10
        problem(kiosk_collect(live, wrong), 404, "code_invalid")
        assert ok(kiosk_collect(live, code["pin"]))["all_opened"] is True
        live.sim.take(cid)
        watch_doors()  # sees the door open
        live.clock.advance(seconds=live.ctx.settings.door_left_open_s + 1)
        watch_doors()  # and now left open
        # staff sign in with their password and open a door, for a reason
        signed_in = ok(
            anyone.post(f"{API}/auth/token", json={"name": "staff", "password": PASSWORD}), 201
        )
        secrets.append(signed_in["token"])
        staff = live.client(None)
        staff.headers["Authorization"] = f"Bearer {signed_in['token']}"
        with staff:
            opened = staff.post(f"{API}/compartments/5/open", json={"reason": "stuck latch"})
            assert ok(opened)["opened"] is True
            assert parcel_state(staff, pid) == "collected"
            live.sim.jam(6)  # a latch that does not let go: the door stays shut
            jammed = staff.post(f"{API}/compartments/6/open", json={"reason": "check it"})
            problem(jammed, 503, "door_did_not_open")
    out = capfd.readouterr()
    access = out.out + out.err

    got = list(heard.got)
    entries = [parse_entry(data) for data in got]
    messages = [entry["MESSAGE"] for entry in entries]
    for secret in secrets:
        raw = secret.encode()
        assert not [data for data in got if raw in data], (secret, messages)
        assert secret not in access, (secret, access)
    # uvicorn's line per request was there, only without what it must not say
    assert f'"GET {API}/directory/search?… HTTP/1.1" 200' in access
    assert '"GET /extend/… HTTP/1.1" 200' in access
    assert f'"POST {API}/collect HTTP/1.1" 404' in access

    def one(message: str) -> dict[str, str]:
        (entry,) = [entry for entry in entries if entry["MESSAGE"] == message]
        return entry

    stored = one(f"parcel {pid} stored in compartment {cid}")
    assert (stored["BUS"], stored["COMPARTMENT"], stored["PARCEL"]) == ("main", str(cid), str(pid))
    for purpose in ("deposit", "collect"):
        opened = one(f"compartment {cid}: door opened for {purpose}")
        assert (opened["BUS"], opened["COMPARTMENT"], opened["PARCEL"]) == (
            "main",
            str(cid),
            str(pid),
        )
        assert opened["PRIORITY"] == "6"
    left_open = one(f"compartment {cid}: door left open")
    assert (left_open["BUS"], left_open["COMPARTMENT"], left_open["PRIORITY"]) == (
        "main",
        str(cid),
        "4",
    )
    assert "PARCEL" not in left_open
    by_staff = one("compartment 5: door opened for staff")
    assert (by_staff["BUS"], by_staff["COMPARTMENT"]) == ("main", "5")
    assert "PARCEL" not in by_staff  # an empty compartment
    assert "stuck latch" not in by_staff["MESSAGE"]  # staff's reason stays in the audit log
    shut = one("compartment 6: door refused for staff")
    assert (shut["BUS"], shut["COMPARTMENT"], shut["PRIORITY"]) == ("main", "6", "4")


def test_the_paths_an_access_line_may_show() -> None:
    assert loggable_path("/pay/abc.def/go") == "/pay/…/go"
    assert loggable_path("/extend/7.mark?lang=de") == "/extend/…?…"
    assert loggable_path("/api/v1/parcels/7") == "/api/v1/parcels/7"
    assert loggable_path("/api/v1/recipients?q=Ada") == "/api/v1/recipients?…"
