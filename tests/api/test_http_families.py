"""Deposit and collect over real HTTP on the example layout of every board family, each
on its own simulator (the one `locker serve` starts for port = "sim")."""

from __future__ import annotations

from pathlib import Path

import pytest

from locker.layouts import example_path
from sim.modbus_bus import ModbusSimBus
from tests.api.http_helpers import API, ok
from tests.api.live import live_station, wait_until


@pytest.mark.parametrize("example", ["modbus_relay", "xor8a", "mixed"])
def test_deposit_and_collect_through_the_api_on_each_family(example: str, tmp_path: Path) -> None:
    text = example_path(example).read_text(encoding="utf-8")
    with (
        live_station(tmp_path, background=False, layout=text) as live,
        live.client("courier") as courier,
        live.client() as anyone,
    ):
        layout = live.runtime.station.layout
        for spec in layout.compartments:
            parcel = {"tracking_number": f"T{spec.id}", "recipient_name": "Ada", "size": spec.size}
            before = {c.id: live.sim.pulses(c.id) for c in layout.compartments}
            opened = ok(courier.post(f"{API}/deposits", json={"parcel": parcel}), 201)
            cid = opened["door"]["compartment_id"]
            assert opened["door"]["opened"] is True
            assert live.sim.pulses(cid) == before[cid] + 1
            live.sim.put(cid)
            live.sim.close(cid)
            stored = ok(courier.post(f"{API}/parcels/{opened['parcel']['id']}/confirm"))
            collected = ok(anyone.post(f"{API}/collect", json={"code": stored["code"]["pin"]}))
            assert [d["compartment_id"] for d in collected["doors"]] == [cid]
            assert all(d["opened"] for d in collected["doors"])
            assert live.sim.pulses(cid) == before[cid] + 2
            assert live.sim.is_open(cid)
            live.sim.take(cid)
            live.sim.close(cid)
        families = {bus.family for bus in layout.buses}
        assert families == {"xor8a"} if example == "xor8a" else "modbus-relay" in families


def test_relay_boards_start_with_all_relays_off_and_sensors_answer(tmp_path: Path) -> None:
    text = example_path("modbus_relay").read_text(encoding="utf-8")
    with live_station(tmp_path, background=False, layout=text) as live:
        bus = live.sim.buses["cold"]
        assert isinstance(bus, ModbusSimBus)
        all_off = {
            bytes.fromhex("01 05 00 FF 00 00 FD FA"),
            bytes.fromhex("02 05 00 FF 00 00 FD C9"),
        }
        assert all_off <= {raw for _t, raw in bus.frames_received}
        fridge = live.runtime.thermometers["fridge"]
        assert fridge.read_celsius() == 5.0
        live.sim.set_temperature("fridge", 11.5)
        assert fridge.read_celsius() == 11.5
        live.sim.silence_sensor("fridge")
        assert fridge.read_celsius() is None


def test_a_door_found_open_without_an_order_raises_the_alert_on_relay_boards(
    tmp_path: Path,
) -> None:
    text = example_path("modbus_relay").read_text(encoding="utf-8")
    with (
        live_station(tmp_path, background=True, layout=text, door_left_open_s=60) as live,
        live.client("staff") as staff,
    ):
        live.sim.open(3)  # nothing happens to a latched door
        assert live.sim.state(3).latched
        bus = live.sim.buses["cold"]
        bus.release_latch(2, 9)  # a door forced: input 1 of board 3 shows it open
        wait_until(lambda: any(live.sim.state(3).door_open for _ in [0]))

        def alerts() -> list[str]:
            live.clock.advance(seconds=61)
            return [a["kind"] for a in ok(staff.get(f"{API}/alerts")) if a["compartment_id"] == 3]

        wait_until(lambda: "door_left_open" in alerts())
        assert live.sim.pulses(3) == 0


def test_the_simulators_control_api_warms_drifts_and_silences_a_sensor(tmp_path: Path) -> None:
    text = example_path("modbus_relay").read_text(encoding="utf-8")
    with live_station(tmp_path, background=False, layout=text) as live, live.client("sim") as sim:
        fridge = live.runtime.thermometers["fridge"]
        assert ok(sim.get(f"{API}/sim/sensors")) == [
            {"sensor_id": "fridge", "address": 10, "celsius": 5.0, "silent": False}
        ]
        warm = ok(sim.put(f"{API}/sim/sensors/fridge", json={"celsius": 9.5}))
        assert warm["celsius"] == 9.5
        assert fridge.read_celsius() == 9.5
        ok(sim.put(f"{API}/sim/sensors/fridge", json={"celsius": 9.5, "drift_per_min": 60}))
        wait_until(lambda: (fridge.read_celsius() or 0.0) >= 9.6)
        assert ok(sim.post(f"{API}/sim/sensors/fridge/silence"))["silent"] is True
        assert fridge.read_celsius() is None
        assert ok(sim.delete(f"{API}/sim/sensors/fridge/silence"))["silent"] is False
        assert fridge.read_celsius() is not None
        missing = sim.put(f"{API}/sim/sensors/attic", json={"celsius": 1.0})
        assert missing.status_code == 404
        assert missing.json()["code"] == "sensor_not_found"
        bad = sim.put(f"{API}/sim/sensors/fridge", json={"celsius": "warm"})
        assert bad.status_code == 422
