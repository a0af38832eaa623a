"""Issue 27 end to end, with the real parts together: a chilled group whose thermometer is
an XY-MD02 on a Modbus relay bus, on the simulator that `locker serve` starts, read by the
real driver in the door watcher's loop (no test thermometer). A chilled parcel goes in and
out over HTTP; the simulated sensor is warmed through the simulator's API and the station's
clock moved past the out-of-band setting: the alert reaches staff over real SMTP, a new
chilled parcel is refused naming the kind, the recipient inside is asked to come soon;
cooled back, the group clears and takes chilled parcels again. A silenced sensor raises
its own alert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from locker.cold.tables import ColdGroupState
from locker.store.tables import OutboxEvent
from tests.api.http_helpers import API, ok, parcel, problem
from tests.api.live import LiveStation, live_station, wait_until
from tests.mail_support import SmtpServer, smtp_server, text_of

LAYOUT = """\
[station]
name = "Cold corner"

[[bus]]
id = "relays"
port = "sim"
family = "modbus-relay"
baud = 9600

[[board]]
bus = "relays"
address = 1
type = "modbus-relay-8"
pulse_ms = 100

[[sensor]]
id = "fridge-probe"
bus = "relays"
address = 10
type = "xy-md02"

[[cold_group]]
id = "fridge"
kind = "chilled"
sensor = "fridge-probe"

[[compartment]]
id = 1
bus = "relays"
board = 1
lock = 1
size = "M"

[[compartment]]
id = 2
bus = "relays"
board = 1
lock = 2
size = "M"
cold_group = "fridge"

[[compartment]]
id = 3
bus = "relays"
board = 1
lock = 3
size = "M"
cold_group = "fridge"
"""
STAFF_MAIL = "staff@cold.example"
RECIPIENT = "grace@cold.example"
READ_S = 30  # cold_read_s: the watcher reads the thermometer this often (station time)


@pytest.fixture
def mail() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def live(tmp_path: Path, mail: SmtpServer) -> Iterator[LiveStation]:
    with live_station(
        tmp_path,
        layout=LAYOUT,
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        staff_email=STAFF_MAIL,
        cold_read_s=READ_S,
        cold_out_of_band_minutes=10,
        notify_every_s=0.1,
    ) as made:
        yield made


def _group(live: LiveStation) -> ColdGroupState | None:
    with live.runtime.station.db.read() as session:
        return session.get(ColdGroupState, "fridge")


def _read_once_more(live: LiveStation, celsius: float | None) -> None:
    """Move the station's clock to the next read and wait until the loop has read
    ``celsius`` (None: no answer) over the bus."""
    before = _group(live)
    live.clock.advance(seconds=READ_S + 1)

    def read() -> bool:
        row = _group(live)
        if row is None or row.last_c != celsius:
            return False
        return before is None or before.last_c != celsius or row.last_at != before.last_at

    wait_until(read)


def _status(live: LiveStation) -> str:
    row = _group(live)
    return row.status if row is not None else "none"


def _alerts(staff: httpx.Client) -> list[dict[str, Any]]:
    return list(ok(staff.get(f"{API}/alerts")))


def _store_chilled(live: LiveStation, courier: httpx.Client, tracking: str) -> dict[str, Any]:
    body = {"parcel": parcel(tracking, size="M", cold="chilled", email=RECIPIENT)}
    opened = ok(courier.post(f"{API}/deposits", json=body), 201)
    cid = opened["door"]["compartment_id"]
    assert cid in (2, 3)  # never the ambient compartment 1
    assert opened["door"]["opened"] is True
    live.sim.put(cid)
    live.sim.close(cid)
    stored: dict[str, Any] = ok(courier.post(f"{API}/parcels/{opened['parcel']['id']}/confirm"))
    assert stored["parcel"]["cold"] == "chilled"
    return stored


def test_a_fridge_on_a_modbus_bus_goes_out_of_band_and_back(
    live: LiveStation, mail: SmtpServer
) -> None:
    assert live.runtime.thermometers["fridge-probe"].read_celsius() == 5.0  # the real driver
    with (
        live.client("courier") as courier,
        live.client("staff") as staff,
        live.client("sim") as sim,
        live.client() as anyone,
    ):
        wait_until(lambda: _status(live) == "ok")  # the loop's first read: 5 °C, in band
        first = _store_chilled(live, courier, "CH-1")
        cid = first["parcel"]["compartment_id"]
        collected = ok(anyone.post(f"{API}/collect", json={"code": first["code"]["pin"]}))
        assert [d["compartment_id"] for d in collected["doors"]] == [cid]
        assert live.sim.is_open(cid)
        live.sim.take(cid)
        live.sim.close(cid)

        inside = _store_chilled(live, courier, "CH-2")  # stays in while the fridge warms
        ok(sim.put(f"{API}/sim/sensors/fridge-probe", json={"celsius": 12.5}))
        _read_once_more(live, 12.5)
        assert _status(live) == "ok"  # a short excursion raises nothing
        live.clock.advance(minutes=10)
        wait_until(lambda: _status(live) == "out_of_band")
        alerts = _alerts(staff)
        assert [a["kind"] for a in alerts] == ["cold_out_of_band"]
        assert "cold group fridge (chilled, 2–8 °C)" in alerts[0]["detail"]
        assert "now 12.5 °C" in alerts[0]["detail"]

        refused = problem(
            courier.post(
                f"{API}/deposits",
                json={"parcel": parcel("CH-3", size="M", cold="chilled", email=RECIPIENT)},
            ),
            409,
            "no_free_chilled_compartment",
        )
        assert "chilled" in refused["detail"]
        assert live.sim.pulses(1) == 0  # no ambient door opened instead

        with live.runtime.station.db.read() as session:
            warnings = session.exec(
                select(OutboxEvent).where(OutboxEvent.event == "parcel.cold_warning")
            ).all()
        assert [w.parcel_id for w in warnings] == [inside["parcel"]["id"]]
        wait_until(lambda: len(mail.mailbox.to(STAFF_MAIL)) >= 1)
        wait_until(
            lambda: any(
                m["Subject"].startswith("Please collect your parcel soon")
                for m in mail.mailbox.to(RECIPIENT)
            )
        )
        staff_mail = mail.mailbox.to(STAFF_MAIL)[0]
        assert "cold out of band" in staff_mail["Subject"]
        assert "now 12.5 °C" in text_of(staff_mail)
        soon = next(
            m for m in mail.mailbox.to(RECIPIENT) if m["Subject"].startswith("Please collect")
        )
        assert f"compartment {inside['parcel']['compartment_id']}" in text_of(soon)

        ok(sim.put(f"{API}/sim/sensors/fridge-probe", json={"celsius": 4.0}))
        _read_once_more(live, 4.0)
        assert _status(live) == "ok"  # one reading in band is enough
        assert _alerts(staff) == []
        again = _store_chilled(live, courier, "CH-4")
        assert again["parcel"]["compartment_id"] != inside["parcel"]["compartment_id"]


def test_a_silent_sensor_on_a_modbus_bus_is_a_fault_of_its_own(live: LiveStation) -> None:
    with (
        live.client("courier") as courier,
        live.client("staff") as staff,
        live.client("sim") as sim,
    ):
        wait_until(lambda: _status(live) == "ok")
        assert ok(sim.post(f"{API}/sim/sensors/fridge-probe/silence"))["silent"] is True
        _read_once_more(live, None)
        live.clock.advance(minutes=10)
        wait_until(lambda: _status(live) == "silent")
        alerts = _alerts(staff)
        assert [a["kind"] for a in alerts] == ["cold_sensor_silent"]
        assert "fridge-probe has not answered" in alerts[0]["detail"]
        refused = problem(
            courier.post(
                f"{API}/deposits", json={"parcel": parcel("S-1", size="M", cold="chilled")}
            ),
            409,
            "no_free_chilled_compartment",
        )
        assert "chilled" in refused["detail"]
        with live.runtime.station.db.read() as session:
            warned = session.exec(
                select(OutboxEvent).where(OutboxEvent.event == "parcel.cold_warning")
            ).all()
        assert warned == []  # nothing is known to be wrong with the parcels: nobody told

        assert ok(sim.delete(f"{API}/sim/sensors/fridge-probe/silence"))["silent"] is False
        _read_once_more(live, 5.0)
        assert _status(live) == "ok"
        assert _alerts(staff) == []
        ok(
            courier.post(
                f"{API}/deposits", json={"parcel": parcel("S-2", size="M", cold="chilled")}
            ),
            201,
        )
