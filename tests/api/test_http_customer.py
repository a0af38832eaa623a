"""Customers through HTTP: a PIN or a QR token opens the right doors, and only those;
wrong codes all look alike; attempt limits per client address and for the station."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from locker.services import staff as staff_service
from tests.api.http_helpers import (
    API,
    kiosk_collect,
    ok,
    parcel_state,
    problem,
    pulsed_since,
    pulses,
    store,
)
from tests.api.live import LiveStation, live_station


def test_pin_and_qr_token_open_their_own_door_and_no_other(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        first = store(live, courier, tracking="C-1", email="one@example.org")
        second = store(live, courier, tracking="C-2", email="two@example.org")
        third = store(live, courier, tracking="C-3", size="M", email="three@example.org")
        assert len({first.compartment_id, second.compartment_id, third.compartment_id}) == 3

        before = pulses(live)
        body = ok(kiosk_collect(live, second.pin))
        assert body["all_opened"] is True
        assert len(body["doors"]) == 1
        door = body["doors"][0]
        assert door["compartment_id"] == second.compartment_id == 2
        assert door["opened"] is True
        assert door["outcome"] == "opened"
        assert door["parcel_ids"] == [second.id]
        assert door["where"]["column"] == 1
        assert door["where"]["row"] == 2
        assert door["where"]["text"] == "first column from the left, second from the top"
        assert "Compartment 2 is open" in body["message"]
        assert door["where"]["text"] in body["message"]
        assert body["next"] == ["Take your parcel and close the door."]
        assert pulsed_since(live, before) == {2: 1}
        assert live.sim.state(2).latched is False
        assert parcel_state(staff, second.id) == "collected"
        assert parcel_state(staff, first.id) == "stored"
        audit = ok(staff.get(f"{API}/audit", params={"compartment": 2, "action": "door."}))
        assert (audit[0]["action"], audit[0]["parcel_id"]) == ("door.opened", second.id)

        before = pulses(live)
        body = ok(kiosk_collect(live, third.qr_token))
        assert [d["compartment_id"] for d in body["doors"]] == [third.compartment_id]
        assert pulsed_since(live, before) == {third.compartment_id: 1}
        assert parcel_state(staff, third.id) == "collected"
        assert parcel_state(staff, first.id) == "stored"
        assert ok(staff.get(f"{API}/compartments/{third.compartment_id}"))["compartment"][
            "state"
        ] == ("free")
        # the parcel is gone once the recipient took it and closed the door
        live.sim.take(third.compartment_id)
        live.sim.close(third.compartment_id)
        assert live.sim.state(first.compartment_id).latched is True


def test_qr_images_of_a_pickup_token(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client(None) as anyone,
    ):
        token = store(live, courier, tracking="QR").qr_token
        svg = anyone.post(f"{API}/qr.svg", json={"token": token})
        assert svg.status_code == 200, svg.text
        assert svg.headers["content-type"].startswith("image/svg+xml")
        assert b"<svg" in svg.content
        problem(anyone.post(f"{API}/qr.svg", json={"token": "short"}), 422, "invalid_request")
        problem(anyone.post(f"{API}/qr.png", json={"token": "x" * 33}), 422, "invalid_request")
        png = anyone.post(f"{API}/qr.png", json={"token": token})
        assert png.status_code == 200, png.text
        assert png.headers["content-type"] == "image/png"
        assert png.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_unknown_used_and_expired_codes_look_the_same(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        used = store(live, courier, tracking="USED", email="u@example.org")
        expiring = store(live, courier, tracking="LATE", email="l@example.org")
        ok(kiosk_collect(live, used.pin))

        before = pulses(live)
        answers = [
            kiosk_collect(live, "0000000000", "127.0.0.2"),  # unknown PIN
            kiosk_collect(live, "A" * 32, "127.0.0.2"),  # unknown QR token
            kiosk_collect(live, used.pin, "127.0.0.3"),  # used PIN
            kiosk_collect(live, used.qr_token, "127.0.0.3"),  # used QR token
        ]
        live.clock.advance(days=7, minutes=1)  # past the deadline, not yet marked expired
        answers.append(kiosk_collect(live, expiring.pin, "127.0.0.4"))
        staff_service.expire(live.runtime.station)
        assert parcel_state(staff, expiring.id) == "expired"
        answers.append(kiosk_collect(live, expiring.pin, "127.0.0.5"))  # expired
        answers.append(kiosk_collect(live, expiring.qr_token, "127.0.0.5"))

        first = problem(answers[0], 404, "code_invalid")
        for answer in answers:
            problem(answer, 404, "code_invalid")
            assert answer.content == answers[0].content
            assert answer.headers["content-type"] == answers[0].headers["content-type"]
        assert "Retry-After" not in answers[0].headers
        assert set(first) == {"type", "title", "status", "code", "detail"}
        assert pulsed_since(live, before) == {}
        assert parcel_state(staff, expiring.id) == "expired"


def test_the_newest_code_of_a_recipient_opens_all_their_parcels(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        # an older and a newer parcel for the same address (case does not matter)
        old = store(live, courier, tracking="G-1", email="grace@example.org")
        new = store(live, courier, tracking="G-2", email="Grace@Example.org")
        assert old.opens == (old.id,)
        assert set(new.opens) == {new.id, old.id}
        other = store(live, courier, tracking="X-1", email="someone@example.org")
        assert other.opens == (other.id,)

        before = pulses(live)
        body = ok(kiosk_collect(live, new.pin))
        assert body["all_opened"] is True
        assert sorted(d["compartment_id"] for d in body["doors"]) == sorted(
            [old.compartment_id, new.compartment_id]
        )
        assert all(d["opened"] for d in body["doors"])
        assert sorted(p for d in body["doors"] for p in d["parcel_ids"]) == sorted([old.id, new.id])
        assert pulsed_since(live, before) == {old.compartment_id: 1, new.compartment_id: 1}
        assert parcel_state(staff, old.id) == "collected"
        assert parcel_state(staff, new.id) == "collected"
        assert parcel_state(staff, other.id) == "stored"
        # the older code opened only its own parcel, which is gone now
        problem(kiosk_collect(live, old.pin), 404, "code_invalid")

        # the older code opens only its own door
        first = store(live, courier, tracking="H-1", phone="+41 79 123 45 67")
        second = store(live, courier, tracking="H-2", phone="+41791234567")
        assert set(second.opens) == {first.id, second.id}
        before = pulses(live)
        body = ok(kiosk_collect(live, first.qr_token, "127.0.0.3"))
        assert [d["compartment_id"] for d in body["doors"]] == [first.compartment_id]
        assert pulsed_since(live, before) == {first.compartment_id: 1}
        assert parcel_state(staff, second.id) == "stored"
        # the newer code still opens what is left
        before = pulses(live)
        body = ok(kiosk_collect(live, second.pin, "127.0.0.3"))
        assert [d["compartment_id"] for d in body["doors"]] == [second.compartment_id]
        assert pulsed_since(live, before) == {second.compartment_id: 1}


def test_codes_of_different_carriers_are_never_merged(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False) as live,
        live.client("courier") as courier,
        live.client("rival") as rival,
        live.client("staff") as staff,
    ):
        mine = store(live, courier, tracking="CARRIER-A", email="sam@example.org")
        theirs = store(live, rival, tracking="CARRIER-B", email="sam@example.org")
        assert theirs.opens == (theirs.id,)  # the rival's code opens only the rival's parcel
        before = pulses(live)
        body = ok(kiosk_collect(live, theirs.pin))
        assert [d["compartment_id"] for d in body["doors"]] == [theirs.compartment_id]
        assert pulsed_since(live, before) == {theirs.compartment_id: 1}
        assert parcel_state(staff, mine.id) == "stored"
        ok(kiosk_collect(live, mine.qr_token))
        assert parcel_state(staff, mine.id) == "collected"


def _race(live: LiveStation, code: str, addresses: tuple[str, ...]) -> list[httpx.Response]:
    """Send ``code`` from every address at the same moment, one client each."""
    barrier = threading.Barrier(len(addresses))
    answers: dict[str, httpx.Response] = {}

    def collect(address: str) -> None:
        with live.client(None, local_address=address) as kiosk:
            barrier.wait()
            answers[address] = kiosk.post(f"{API}/collect", json={"code": code})

    threads = [threading.Thread(target=collect, args=(address,)) for address in addresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == len(addresses)
    return list(answers.values())


def test_two_simultaneous_collections_with_one_code_open_the_door_once(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client("courier") as courier:
        for round_no in range(3):
            stored = store(live, courier, tracking=f"RACE-{round_no}")
            before = pulses(live)
            answers = _race(live, stored.pin, ("127.0.0.2", "127.0.0.3"))
            statuses = sorted(a.status_code for a in answers)
            assert statuses[0] == 200, [a.text for a in answers]
            loser = next(a for a in answers if a.status_code != 200)
            assert 400 <= loser.status_code < 500, loser.text
            assert loser.headers["content-type"].startswith("application/problem+json")
            assert loser.json()["code"] in {"door_busy", "code_invalid"}, loser.text
            assert sum(pulsed_since(live, before).values()) == 1
            assert pulsed_since(live, before) == {stored.compartment_id: 1}


def test_attempt_limits_per_client_address(tmp_path: Path) -> None:
    with live_station(tmp_path, background=False) as live, live.client("courier") as courier:
        parcels = [store(live, courier, tracking=f"L-{n}") for n in range(4)]
        me, other = "127.0.0.2", "127.0.0.3"

        # two mistakes, then the right code: opens at once
        for _ in range(2):
            problem(kiosk_collect(live, "1111111111", me), 404, "code_invalid")
        ok(kiosk_collect(live, parcels[0].pin, me))

        # three more mistakes: the next try must wait, even with the right code
        for _ in range(3):
            problem(kiosk_collect(live, "1111111111", me), 404, "code_invalid")
        before = pulses(live)
        limited = kiosk_collect(live, parcels[1].pin, me)
        body = problem(limited, 429, "too_many_attempts")
        assert limited.headers["Retry-After"] == "30"
        assert body["retry_after"] == 30
        assert pulsed_since(live, before) == {}
        # a forwarded-for header from an untrusted client changes nothing
        with live.client(None, local_address=me) as kiosk:
            spoofed = kiosk.post(
                f"{API}/collect",
                json={"code": parcels[1].pin},
                headers={"X-Forwarded-For": "10.9.8.7"},
            )
        problem(spoofed, 429, "too_many_attempts")

        # another client address is not held up
        ok(kiosk_collect(live, parcels[2].pin, other))
        assert pulsed_since(live, before) == {parcels[2].compartment_id: 1}

        # waiting lifts the delay; a further mistake doubles it
        live.clock.advance(seconds=29)
        problem(kiosk_collect(live, parcels[1].pin, me), 429, "too_many_attempts")
        live.clock.advance(seconds=2)
        problem(kiosk_collect(live, "1111111111", me), 404, "code_invalid")
        doubled = kiosk_collect(live, parcels[1].pin, me)
        problem(doubled, 429, "too_many_attempts")
        assert doubled.headers["Retry-After"] == "60"
        live.clock.advance(seconds=61)
        before = pulses(live)
        ok(kiosk_collect(live, parcels[1].pin, me))
        assert pulsed_since(live, before) == {parcels[1].compartment_id: 1}

        # a success clears the run: two mistakes are free again
        for _ in range(2):
            problem(kiosk_collect(live, "1111111111", me), 404, "code_invalid")
        ok(kiosk_collect(live, parcels[3].pin, me))


def test_the_station_caps_wrong_codes_per_hour_whatever_the_address(tmp_path: Path) -> None:
    with (
        live_station(tmp_path, background=False, attempts_station_per_hour=4) as live,
        live.client("courier") as courier,
    ):
        stored = store(live, courier, tracking="CAP")
        for n in range(4):
            problem(kiosk_collect(live, "2222222222", f"127.0.0.{10 + n}"), 404, "code_invalid")
        before = pulses(live)
        capped = kiosk_collect(live, stored.pin, "127.0.0.20")
        problem(capped, 429, "too_many_attempts")
        assert int(capped.headers["Retry-After"]) == 3600
        assert pulsed_since(live, before) == {}
        live.clock.advance(hours=1)
        ok(kiosk_collect(live, stored.pin, "127.0.0.20"))
        assert pulsed_since(live, before) == {stored.compartment_id: 1}
