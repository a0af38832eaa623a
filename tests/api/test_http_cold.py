"""Cold parcels over the HTTP API of a served station (real simulator, real SQLite file):
the courier says chilled or frozen, the refusal names the kind (problem+json), the deadline
is shorter, and the compartments show their kind and group."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from locker.cold.watch import ColdWatch
from locker.testkit.thermometers import SettableThermometer
from tests.api.http_helpers import API, ok, parcel, problem
from tests.api.live import live_station
from tests.cold_support import live_cold_layout


def test_cold_deposits_over_the_api(tmp_path: Path) -> None:
    fridge = SettableThermometer(5.0)
    with (
        live_station(
            tmp_path,
            background=False,
            layout=live_cold_layout(),
            thermometers={"fridge-sensor": fridge},
        ) as live,
        live.client("courier") as courier,
        live.client("staff") as staff,
    ):
        chilled = {"parcel": parcel("C-0", size="M", cold="chilled")}
        body = problem(
            courier.post(f"{API}/deposits", json=chilled), 409, "no_free_chilled_compartment"
        )
        assert "not read in 2–8 °C yet" in body["detail"]

        ColdWatch(live.runtime.station).tick()  # the fridge reads 5 °C: it takes parcels
        first = ok(courier.post(f"{API}/deposits", json=chilled), 201)
        assert first["parcel"]["cold"] == "chilled"
        assert first["door"]["compartment_id"] in (4, 5)
        old_way = {"parcel": parcel("C-1", size="S", needs_cooling=True)}
        second = ok(courier.post(f"{API}/deposits", json=old_way), 201)
        assert second["parcel"]["cold"] == "chilled"  # needs_cooling: the older way to say it
        assert {first["door"]["compartment_id"], second["door"]["compartment_id"]} == {4, 5}
        full = problem(
            courier.post(
                f"{API}/deposits", json={"parcel": parcel("C-2", size="S", cold="chilled")}
            ),
            409,
            "no_free_chilled_compartment",
        )
        assert "never goes into an ambient compartment" in full["detail"]
        frozen = {"parcel": parcel("F-1", size="S", cold="frozen")}
        none = problem(
            courier.post(f"{API}/deposits", json=frozen), 409, "no_free_frozen_compartment"
        )
        assert "this station has no frozen compartment" in none["detail"]
        bad = courier.post(f"{API}/deposits", json={"parcel": parcel("X", cold="icy")})
        assert bad.status_code == 422

        made = [first, second]
        for pid, cid in ((m["parcel"]["id"], m["door"]["compartment_id"]) for m in made):
            live.sim.put(cid)
            live.sim.close(cid)
            stored = ok(courier.post(f"{API}/parcels/{pid}/confirm"))
            deadline = datetime.fromisoformat(stored["parcel"]["deadline"])
            assert deadline - live.clock.now == timedelta(hours=24)

        shown = {c["id"]: c for c in ok(staff.get(f"{API}/compartments"))}
        assert (shown[4]["cold"], shown[4]["cold_group"]) == ("chilled", "fridge")
        assert (shown[1]["cold"], shown[1]["cold_group"]) == (None, None)
