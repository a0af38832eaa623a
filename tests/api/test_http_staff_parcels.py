"""Staff's parcels through HTTP: deadlines extended, codes made anew, the parcel list and the
audit log with their filters."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from locker.services import staff as staff_service
from tests.api.http_helpers import (
    API,
    ids_of,
    kiosk_collect,
    ok,
    parcel,
    parcel_state,
    parse_time,
    problem,
    pulsed_since,
    pulses,
    store,
)
from tests.api.live import live_station


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
        deadline = parse_time(ok(staff.get(f"{API}/parcels/{third.id}"))["deadline"])
        longer = ok(staff.post(f"{API}/parcels/{third.id}/extend", json={"days": 1}))
        assert longer["state"] == "stored"
        assert parse_time(longer["deadline"]) == deadline + timedelta(days=1)

        live.clock.advance(days=7, hours=1)
        report = staff_service.expire(live.runtime.station)
        assert set(report.expired_parcels) == {first.id, second.id}
        problem(kiosk_collect(live, first.pin), 404, "code_invalid")

        now = live.clock()
        by_days = ok(staff.post(f"{API}/parcels/{first.id}/extend", json={"days": 2}))
        assert by_days["state"] == "stored"
        assert parse_time(by_days["deadline"]) == now + timedelta(days=2)
        before = pulses(live)
        ok(kiosk_collect(live, first.pin, "127.0.0.3"))
        assert pulsed_since(live, before) == {first.compartment_id: 1}

        until = now + timedelta(days=3)
        by_until = ok(
            staff.post(f"{API}/parcels/{second.id}/extend", json={"until": until.isoformat()})
        )
        assert by_until["state"] == "stored"
        assert parse_time(by_until["deadline"]) == until
        ok(kiosk_collect(live, second.qr_token, "127.0.0.3"))
        assert pulsed_since(live, before) == {first.compartment_id: 1, second.compartment_id: 1}
        # the third one's extended deadline held: still collectable after 7 days and an hour
        ok(kiosk_collect(live, third.pin, "127.0.0.3"))

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
        problem(kiosk_collect(live, stored.pin), 404, "code_invalid")
        problem(kiosk_collect(live, stored.qr_token), 404, "code_invalid")
        assert pulsed_since(live, before) == {}
        body = ok(kiosk_collect(live, code["pin"]))
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
            return ids_of(ok(staff.get(f"{API}/parcels", params=params)))

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
        problem(kiosk_collect(live, "9999999999"), 404, "code_invalid")

        def entries(**params: Any) -> list[dict[str, Any]]:
            body: list[dict[str, Any]] = ok(staff.get(f"{API}/audit", params=params))
            return body

        everything = entries()
        assert ids_of(everything) == sorted(ids_of(everything), reverse=True)

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
